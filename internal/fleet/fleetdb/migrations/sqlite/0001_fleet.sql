-- The fleet inventory. Times are microseconds since the Unix epoch, UTC. Every table is prefixed fleet_ because the
-- database may be the one that holds the site's feedback.
CREATE TABLE fleet_hosts (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	name       TEXT    NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 63),
	token_hash BLOB    UNIQUE CHECK (token_hash IS NULL OR length(token_hash) = 32), -- SHA-256 of the host token; NULL once revoked
	created    INTEGER NOT NULL,
	last_seen  INTEGER,                    -- NULL until the first report
	agent      TEXT    NOT NULL DEFAULT '', -- the agent run whose reports are being applied
	boot       TEXT    NOT NULL DEFAULT '',
	last_seq   INTEGER NOT NULL DEFAULT 0,
	interval_s INTEGER NOT NULL DEFAULT 0,
	reports    INTEGER NOT NULL DEFAULT 0, -- reports applied
	gaps       INTEGER NOT NULL DEFAULT 0  -- reports that skipped a sequence number
) STRICT;

CREATE TABLE fleet_listeners (
	host_id   INTEGER NOT NULL REFERENCES fleet_hosts (id) ON DELETE CASCADE,
	proto     TEXT    NOT NULL,
	addr      TEXT    NOT NULL,
	port      INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),
	netns     TEXT    NOT NULL,
	pid       INTEGER NOT NULL,
	uid       INTEGER NOT NULL,
	user_name TEXT    NOT NULL,
	process   TEXT    NOT NULL,
	exe       TEXT    NOT NULL,
	container TEXT    NOT NULL,
	since     INTEGER NOT NULL, -- when this listener was added or last changed owner
	PRIMARY KEY (host_id, proto, addr, port, netns)
) STRICT;

CREATE INDEX fleet_listeners_port ON fleet_listeners (port, proto);

CREATE TABLE fleet_changes (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	host_id   INTEGER NOT NULL REFERENCES fleet_hosts (id) ON DELETE CASCADE,
	seq       INTEGER NOT NULL,
	at        INTEGER NOT NULL,
	kind      TEXT    NOT NULL CHECK (kind IN ('added', 'removed', 'changed', 'gap', 'run')),
	proto     TEXT    NOT NULL DEFAULT '',
	addr      TEXT    NOT NULL DEFAULT '',
	port      INTEGER NOT NULL DEFAULT 0,
	netns     TEXT    NOT NULL DEFAULT '',
	pid       INTEGER NOT NULL DEFAULT 0,
	uid       INTEGER NOT NULL DEFAULT -1,
	user_name TEXT    NOT NULL DEFAULT '',
	process   TEXT    NOT NULL DEFAULT '',
	exe       TEXT    NOT NULL DEFAULT '',
	container TEXT    NOT NULL DEFAULT '',
	detail    TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX fleet_changes_host ON fleet_changes (host_id, id);

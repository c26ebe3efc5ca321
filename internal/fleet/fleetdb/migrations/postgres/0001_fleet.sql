-- The fleet inventory. Times are microseconds since the Unix epoch, UTC. Every table is prefixed fleet_ because the
-- database may be the one that holds the site's feedback.
CREATE TABLE fleet_hosts (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       text    NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 63),
	token_hash bytea   UNIQUE CHECK (token_hash IS NULL OR octet_length(token_hash) = 32), -- SHA-256 of the host token; NULL once revoked
	created    bigint  NOT NULL,
	last_seen  bigint,                    -- NULL until the first report
	agent      text    NOT NULL DEFAULT '', -- the agent run whose reports are being applied
	boot       text    NOT NULL DEFAULT '',
	last_seq   bigint  NOT NULL DEFAULT 0,
	interval_s bigint  NOT NULL DEFAULT 0,
	reports    bigint  NOT NULL DEFAULT 0, -- reports applied
	gaps       bigint  NOT NULL DEFAULT 0  -- reports that skipped a sequence number
);

CREATE TABLE fleet_listeners (
	host_id   bigint  NOT NULL REFERENCES fleet_hosts (id) ON DELETE CASCADE,
	proto     text    NOT NULL,
	addr      text    NOT NULL,
	port      bigint  NOT NULL CHECK (port BETWEEN 0 AND 65535),
	netns     text    NOT NULL,
	pid       bigint  NOT NULL,
	uid       bigint  NOT NULL,
	user_name text    NOT NULL,
	process   text    NOT NULL,
	exe       text    NOT NULL,
	container text    NOT NULL,
	since     bigint  NOT NULL, -- when this listener was added or last changed owner
	PRIMARY KEY (host_id, proto, addr, port, netns)
);

CREATE INDEX fleet_listeners_port ON fleet_listeners (port, proto);

CREATE TABLE fleet_changes (
	id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	host_id   bigint  NOT NULL REFERENCES fleet_hosts (id) ON DELETE CASCADE,
	seq       bigint  NOT NULL,
	at        bigint  NOT NULL,
	kind      text    NOT NULL CHECK (kind IN ('added', 'removed', 'changed', 'gap', 'run')),
	proto     text    NOT NULL DEFAULT '',
	addr      text    NOT NULL DEFAULT '',
	port      bigint  NOT NULL DEFAULT 0,
	netns     text    NOT NULL DEFAULT '',
	pid       bigint  NOT NULL DEFAULT 0,
	uid       bigint  NOT NULL DEFAULT -1,
	user_name text    NOT NULL DEFAULT '',
	process   text    NOT NULL DEFAULT '',
	exe       text    NOT NULL DEFAULT '',
	container text    NOT NULL DEFAULT '',
	detail    text    NOT NULL DEFAULT ''
);

CREATE INDEX fleet_changes_host ON fleet_changes (host_id, id);

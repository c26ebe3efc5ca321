-- Each host's current audit findings (porthole audit, run by the agent), replaced whole by a report that carries
-- findings.
CREATE TABLE fleet_findings (
	host_id  INTEGER NOT NULL REFERENCES fleet_hosts (id) ON DELETE CASCADE,
	rule     TEXT    NOT NULL,
	severity TEXT    NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
	proto    TEXT    NOT NULL, -- '' for a finding about no listener
	addr     TEXT    NOT NULL,
	port     INTEGER NOT NULL,
	netns    TEXT    NOT NULL,
	reason   TEXT    NOT NULL,
	since    INTEGER NOT NULL
) STRICT;

CREATE INDEX fleet_findings_host ON fleet_findings (host_id);

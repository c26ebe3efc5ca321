-- Each host's current audit findings (porthole audit, run by the agent), replaced whole by a report that carries
-- findings.
CREATE TABLE fleet_findings (
	host_id  bigint  NOT NULL REFERENCES fleet_hosts (id) ON DELETE CASCADE,
	rule     text    NOT NULL,
	severity text    NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
	proto    text    NOT NULL, -- '' for a finding about no listener
	addr     text    NOT NULL,
	port     bigint  NOT NULL,
	netns    text    NOT NULL,
	reason   text    NOT NULL,
	since    bigint  NOT NULL
);

CREATE INDEX fleet_findings_host ON fleet_findings (host_id);

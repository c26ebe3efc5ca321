-- The group a host is compared with for outliers (agent --group); '' is the whole fleet.
ALTER TABLE fleet_hosts ADD COLUMN host_group TEXT NOT NULL DEFAULT '';

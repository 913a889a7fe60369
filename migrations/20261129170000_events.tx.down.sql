DROP TABLE webhook_deliveries;
--bun:split
DROP TABLE webhook_tenants;
--bun:split
DROP TABLE webhook_endpoints;
--bun:split
ALTER TABLE assignments DROP COLUMN expiry_noticed_for;
--bun:split
ALTER TABLE licenses DROP COLUMN expiry_noticed_for;
--bun:split
ALTER TABLE licenses DROP COLUMN seats_low_noticed;
-- low_seats_threshold stays: the economics migration (applied before) uses it too.
--bun:split
DROP TABLE events;
--bun:split
DROP TABLE event_streams;

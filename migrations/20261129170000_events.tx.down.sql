DROP TABLE webhook_deliveries;
DROP TABLE webhook_tenants;
DROP TABLE webhook_endpoints;
ALTER TABLE assignments DROP COLUMN expiry_noticed_for;
ALTER TABLE licenses DROP COLUMN expiry_noticed_for;
ALTER TABLE licenses DROP COLUMN seats_low_noticed;
-- low_seats_threshold stays: the economics migration (applied before) uses it too.
DROP TABLE events;
DROP TABLE event_streams;

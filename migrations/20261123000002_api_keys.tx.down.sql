DROP FUNCTION IF EXISTS api_key_authenticate(uuid, bytea);
--bun:split
DROP TABLE IF EXISTS api_keys;

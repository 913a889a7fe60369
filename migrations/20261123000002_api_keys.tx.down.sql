DROP FUNCTION IF EXISTS api_key_authenticate(uuid, bytea);
DROP TABLE IF EXISTS api_keys;

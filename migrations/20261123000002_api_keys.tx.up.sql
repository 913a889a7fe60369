-- API keys: long-lived credentials for applications, bound to one tenant,
-- optionally one app, a set of scopes and an expiry. Only a SHA-256 digest
-- of each key is stored; the key itself is shown once, when it is minted.
--
-- How row-level security applies. A key is looked up *before* the tenant
-- is known (the key is what tells us the tenant), so the usual tenant
-- policy cannot serve that lookup. The decision:
--   * RLS is ENABLEd but not FORCEd: the table's owner (migrations and the
--     `seatgraph apikey` CLI, which connects with DATABASE_ADMIN_URL) sees
--     and writes every key.
--   * The application role gets one policy, FOR SELECT, on its tenant: in
--     a tenant transaction it may read its own tenant's keys, never
--     another's, and with no tenant set it reads none. There is no INSERT,
--     UPDATE or DELETE policy, so RLS refuses every write by that role
--     (whatever table privileges it was granted): the server can neither
--     mint, revoke nor alter keys.
--   * Authentication goes through api_key_authenticate, a SECURITY DEFINER
--     function owned by the owner, which answers one question: which
--     tenant, app and scopes belong to the key with this id and digest? It
--     returns nothing unless the caller already holds the key, and it is
--     the only path by which the server touches last_used_at.
-- The table is not distributed by tenant (under Citus it would be a
-- reference table), which is why its lookup key is the id alone.
CREATE TABLE api_keys (
    tenant_id    text        NOT NULL CHECK (tenant_id <> ''),
    id           uuid        NOT NULL,
    name         text        NOT NULL DEFAULT '',
    app_id       text        CHECK (app_id <> ''),
    scopes       text[]      NOT NULL,
    hash         bytea       NOT NULL CHECK (length(hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text        NOT NULL,
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX api_keys_id_key ON api_keys (id);

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_read ON api_keys FOR SELECT
    USING (tenant_id = current_setting('app.tenant_id', true));

-- api_key_authenticate returns the key with id p_id if its digest is
-- p_hash (a SHA-256 digest of a high-entropy secret, so comparing digests
-- leaks nothing about the secret), and records its use at most once a
-- minute. Revoked and expired keys are returned too, so that the caller
-- can say why the key is refused; they are never marked as used.
CREATE FUNCTION api_key_authenticate(p_id uuid, p_hash bytea)
RETURNS TABLE (tenant_id text, app_id text, scopes text[], expires_at timestamptz, revoked_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
    UPDATE api_keys k SET last_used_at = now()
     WHERE k.id = p_id AND k.hash = p_hash
       AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
       AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute');
    RETURN QUERY
        SELECT k.tenant_id, k.app_id, k.scopes, k.expires_at, k.revoked_at
          FROM api_keys k WHERE k.id = p_id AND k.hash = p_hash;
END
$$;

-- Rolling back the reclaim policies' terms. The code before it knows no
-- warning of earlier terms: it would take one for a promise of the
-- current terms and act on it. Those warnings are deleted (their seats
-- keep their RECLAIM_WARNING history rows without a RECLAIM_CANCELLED:
-- the holders are not told). Row-level security binds the owner too: it
-- is lifted for this transaction only, to reach every tenant. One
-- statement at a time, for Citus (docs/scale-out.md, rule 6).
ALTER TABLE reclaim_warnings NO FORCE ROW LEVEL SECURITY;
--bun:split
ALTER TABLE reclaim_policies NO FORCE ROW LEVEL SECURITY;
--bun:split
DELETE FROM reclaim_warnings AS rw USING reclaim_policies AS rp
 WHERE rp.tenant_id = rw.tenant_id AND rp.license_id = rw.license_id
   AND (rw.terms <> rp.terms OR NOT rp.enabled);
--bun:split
ALTER TABLE reclaim_policies FORCE ROW LEVEL SECURITY;
--bun:split
ALTER TABLE reclaim_warnings FORCE ROW LEVEL SECURITY;
--bun:split
ALTER TABLE reclaim_warnings DROP COLUMN terms;
--bun:split
ALTER TABLE reclaim_policies DROP COLUMN terms_reason, DROP COLUMN terms;

-- Bounded work when a reclaim policy is disabled or its terms change
-- (internal/licensing/reclaim.go, SetReclaimPolicy). A warning promises
-- the terms it was given under (the action and the deadline), so it stands
-- only while the policy's terms are those it was given under: terms
-- counts the changes of an enabled policy's terms (disabled, or a new
-- action or grace period), and each warning records the count it was given
-- under. A change then needs one write, the policy's row: the warnings of
-- earlier terms no longer stand from that moment (the job never acts on
-- them, reclaimCandidates lists them in cancel) and are cancelled 500 at
-- a time, by the request that changed the policy and by the job's runs.
-- terms_reason is why they no longer stand (the reason of their
-- RECLAIM_CANCELLED history rows). Existing rows start at 0: as the
-- policy's current terms, which they are (a change used to cancel every
-- warning at once).
ALTER TABLE reclaim_policies ADD COLUMN terms integer NOT NULL DEFAULT 0 CHECK (terms >= 0);
--bun:split
ALTER TABLE reclaim_policies ADD COLUMN terms_reason text;
--bun:split
ALTER TABLE reclaim_warnings ADD COLUMN terms integer NOT NULL DEFAULT 0;

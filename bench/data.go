package main

import (
	"context"
	"fmt"
	"log"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"

	"seatgraph/internal/store"
	"seatgraph/migrations"
)

// datasetVersion changes whenever the generator below makes different
// rows; a bench database holding another version is generated again.
const datasetVersion = 1

// scale is the size of one tenant's dataset.
type scale struct {
	Tenant      string
	Licenses    int
	People      int
	Groups      int
	Assignments int // the target; the generator lands within 0.1% of it
	BigLicense  int // grants on the one big license (D's worst case)
}

var (
	scale1M  = scale{Tenant: "bench-1m", Licenses: 1000, People: 100_000, Groups: 10_000, Assignments: 1_000_000, BigLicense: 31_250}
	scale10k = scale{Tenant: "bench-10k", Licenses: 10, People: 2000, Groups: 200, Assignments: 10_000, BigLicense: 800}
)

// urls are the bench database's connection strings, derived from the
// private cluster's superuser URL.
type urls struct{ super, owner, app string }

func benchURLs(superURL, dbname string) (urls, error) {
	u, err := url.Parse(superURL)
	if err != nil {
		return urls{}, fmt.Errorf("SEATGRAPH_TEST_SUPERUSER_URL: %w", err)
	}
	with := func(user, pass string) string {
		c := *u
		c.Path = "/" + dbname
		if user != "" {
			c.User = url.UserPassword(user, pass)
		}
		return c.String()
	}
	admin := *u
	return urls{super: admin.String(), owner: with("seatgraph_owner", "seatgraph_owner"), app: with("seatgraph_app", "seatgraph_app")}, nil
}

// prepare makes the bench database when missing, applies pending
// migrations, and generates each scale's tenant unless the database
// already holds it at the current dataset version.
func prepare(ctx context.Context, u urls, dbname string, scales ...scale) error {
	su, err := pgx.Connect(ctx, u.super)
	if err != nil {
		return fmt.Errorf("connect to the private cluster (run through make bench): %w", err)
	}
	// A database whose datasets are current is reused as it is; one made
	// by another version of the generator is made again from nothing.
	missing, stale, err := datasets(ctx, u, scales)
	if err != nil {
		return err
	}
	if stale {
		log.Printf("creating database %s", dbname)
		if _, err := su.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{dbname}.Sanitize()+" WITH (FORCE)"); err != nil {
			return err
		}
		if _, err := su.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{dbname}.Sanitize()+" OWNER seatgraph_owner"); err != nil {
			return err
		}
		missing = scales
	}
	_ = su.Close(ctx)

	owner, err := pgx.Connect(ctx, u.owner)
	if err != nil {
		return err
	}
	defer owner.Close(ctx)
	// What scripts/db.sh grant does: the application role may use what the
	// owner creates.
	for _, q := range []string{
		"GRANT USAGE ON SCHEMA public TO seatgraph_app",
		"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO seatgraph_app",
		"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO seatgraph_app",
	} {
		if _, err := owner.Exec(ctx, q); err != nil {
			return err
		}
	}
	db, err := store.Open(ctx, u.owner, store.Options{MaxConns: 2, StatementTimeout: time.Hour})
	if err != nil {
		return err
	}
	start := time.Now()
	group, err := migrations.Apply(ctx, db.Bun())
	_ = db.Close()
	if err != nil {
		return err
	}
	if !group.IsZero() {
		log.Printf("applied migrations %s in %s", group, time.Since(start).Round(time.Millisecond))
	}
	if _, err := owner.Exec(ctx, "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO seatgraph_app"); err != nil {
		return err
	}
	if _, err := owner.Exec(ctx, `CREATE TABLE IF NOT EXISTS bench_dataset (
		tenant text PRIMARY KEY, version integer NOT NULL, made_at timestamptz NOT NULL DEFAULT now(), took interval)`); err != nil {
		return err
	}
	for _, s := range missing {
		if err := generate(ctx, owner, s); err != nil {
			return fmt.Errorf("generate %s: %w", s.Tenant, err)
		}
	}
	return nil
}

// datasets reports which scales the bench database lacks, and whether it
// is stale: missing, or holding a dataset of another generator version.
func datasets(ctx context.Context, u urls, scales []scale) (missing []scale, stale bool, err error) {
	c, err := pgx.Connect(ctx, u.owner)
	if err != nil {
		return scales, true, nil // no database yet
	}
	defer c.Close(ctx)
	rows, _ := c.Query(ctx, "SELECT tenant, version FROM bench_dataset")
	have := map[string]int{}
	var tenant string
	var version int
	_, err = pgx.ForEachRow(rows, []any{&tenant, &version}, func() error { have[tenant] = version; return nil })
	if err != nil {
		return scales, true, nil // no dataset table: an unfinished database
	}
	for _, s := range scales {
		v, ok := have[s.Tenant]
		if ok && v != datasetVersion {
			return scales, true, nil
		}
		if !ok {
			missing = append(missing, s)
		}
	}
	return missing, false, nil
}

// generate writes one tenant's dataset through the real schema: every
// row goes through the constraints, the foreign keys and the seat trigger
// (so seat_holders and the license counters are the trigger's work), and
// the counters are then checked against a recount.
//
// Assignments are inserted a few per license per transaction: the trigger
// updates the license row once per new seat holder, and PostgreSQL cannot
// prune the versions of one row updated many times in one transaction.
func generate(ctx context.Context, c *pgx.Conn, s scale) error {
	start := time.Now()
	log.Printf("generating %s: %d licenses, %d people, %d groups, ~%d assignments", s.Tenant, s.Licenses, s.People, s.Groups, s.Assignments)
	// The owner is bound by the forced row-level security too: it writes
	// as the tenant.
	steps := []string{
		`SELECT set_config('app.tenant_id', @t, false), set_config('statement_timeout', '0', false)`,
		// What an interrupted run left of the tenant (the trigger is off only
		// while its own rows go).
		`ALTER TABLE assignments DISABLE TRIGGER assignments_seats`,
		`DELETE FROM assignment_events WHERE tenant_id = @t`,
		`DELETE FROM assignments WHERE tenant_id = @t`,
		`ALTER TABLE assignments ENABLE TRIGGER assignments_seats`,
		`DELETE FROM seat_holders WHERE tenant_id = @t`,
		`DELETE FROM group_members WHERE tenant_id = @t`,
		`DELETE FROM groups WHERE tenant_id = @t`,
		`DELETE FROM people WHERE tenant_id = @t`,
		`DELETE FROM licenses WHERE tenant_id = @t`,
		`INSERT INTO tenants (tenant_id) VALUES (@t) ON CONFLICT DO NOTHING`,
		// A UUIDv7 (time-ordered, as the server makes them) from a time and a salt.
		`CREATE OR REPLACE FUNCTION pg_temp.u7(ts timestamptz, salt text) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
		   SELECT (lpad(to_hex((extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7' || substr(h, 1, 3)
		           || '8' || substr(h, 4, 15))::uuid FROM md5(salt) AS h $$`,
		// License 0 is the big one, unlimited; a third are unlimited, the
		// rest have far more seats than they hand out; half expire, later.
		`INSERT INTO licenses (tenant_id, id, name, vendor, program_key, total_seats, expires_at,
		                       created_at, updated_at, created_by, updated_by)
		 SELECT @t, pg_temp.u7(ts, @t || ':l:' || i), 'License ' || lpad(i::text, 5, '0'), 'Vendor ' || (i % 50), 'KEY-' || i,
		        CASE WHEN i % 3 = 0 THEN NULL ELSE 5000 END,
		        CASE WHEN i % 2 = 1 THEN now() + (30 + i % 700) * interval '1 day' END, ts, ts, 'bench', 'bench'
		   FROM generate_series(0, @licenses - 1) AS i, LATERAL (SELECT now() - interval '3 years' + i * interval '1 hour') AS t(ts)`,
		`INSERT INTO people (tenant_id, id, email, username, name, external_id, created_at, updated_at, created_by, updated_by)
		 SELECT @t, pg_temp.u7(ts, @t || ':p:' || i), 'person' || i || '@bench.example', 'user' || i, 'Person ' || i,
		        'ext-' || i, ts, ts, 'bench', 'bench'
		   FROM generate_series(0, @people - 1) AS i, LATERAL (SELECT now() - interval '2 years' + i * interval '1 minute') AS t(ts)`,
		`INSERT INTO groups (tenant_id, id, name, description, created_at, updated_at, created_by, updated_by)
		 SELECT @t, pg_temp.u7(ts, @t || ':g:' || i), 'Group ' || lpad(i::text, 5, '0'), 'bench group', ts, ts, 'bench', 'bench'
		   FROM generate_series(0, @groups - 1) AS i, LATERAL (SELECT now() - interval '2 years' + i * interval '10 minutes') AS t(ts)`,
		`CREATE TEMP TABLE ids_l AS SELECT row_number() OVER (ORDER BY name) - 1 AS i, id FROM licenses WHERE tenant_id = @t`,
		`CREATE TEMP TABLE ids_p AS SELECT substr(email, 7, position('@' IN email) - 7)::int AS i, id FROM people WHERE tenant_id = @t`,
		`CREATE TEMP TABLE ids_g AS SELECT substr(name, 7)::int AS i, id FROM groups WHERE tenant_id = @t`,
		`CREATE UNIQUE INDEX ON ids_l (i)`, `CREATE UNIQUE INDEX ON ids_p (i)`, `CREATE UNIQUE INDEX ON ids_g (i)`,
		`ANALYZE ids_l`, `ANALYZE ids_p`, `ANALYZE ids_g`,
		// Every person is in two groups.
		`INSERT INTO group_members (tenant_id, group_id, person_id, added_by)
		 SELECT @t, gid.id, pid.id, 'bench'
		   FROM generate_series(0, @people - 1) AS p CROSS JOIN LATERAL (VALUES (p % @groups), ((7 * p + 3) % @groups)) AS m(g)
		   JOIN ids_g AS gid ON gid.i = m.g JOIN ids_p AS pid ON pid.i = p
		 ON CONFLICT DO NOTHING`,
	}
	perLicense := (s.Assignments - s.BigLicense - s.Licenses/2*21) / (s.Licenses - 1)
	bigPerStep := (s.BigLicense + perLicense - 1) / perLicense
	args := pgx.NamedArgs{"t": s.Tenant, "licenses": s.Licenses, "people": s.People, "groups": s.Groups}
	for _, q := range steps {
		if _, err := c.Exec(ctx, q, args); err != nil {
			return fmt.Errorf("%.60s…: %w", q, err)
		}
	}
	// Direct grants, k = 0 … perLicense-1 on every license but 0 (person
	// (l·7919 + k·101) mod people: distinct per license), and bigPerStep
	// grants per k on license 0. A few per license per transaction.
	direct := `INSERT INTO assignments (tenant_id, id, license_id, person_id, assigned_at, assigned_by, assigned_by_person_id,
	                                    expires_at, active, last_used_at, revoked_at, revoked_by,
	                                    created_at, updated_at, created_by, updated_by)
	 SELECT @t, pg_temp.u7(ts, @t || ':a:' || l || ':' || p), lid.id, pid.id, ts, 'bench', abp.id,
	        CASE WHEN k % 10 = 3 THEN now() + (1 + (k + l) % 400) * interval '1 day' END,
	        k % 50 <> 7,
	        CASE WHEN k % 4 <> 0 THEN least(now(), ts + ((k * 7 + l) % 90) * interval '1 day') END,
	        CASE WHEN k % 40 = 11 THEN ts + interval '1 day' END, CASE WHEN k % 40 = 11 THEN 'bench' END,
	        ts, ts, 'bench', 'bench'
	   FROM (SELECT l, k, (l * 7919 + k * 101) % @people AS p FROM generate_series(1, @licenses - 1) AS l,
	                generate_series(@k0, @k1 - 1) AS k
	         UNION ALL
	         SELECT 0, k, k * @big_step + j FROM generate_series(@k0, @k1 - 1) AS k, generate_series(0, @big_step - 1) AS j
	          WHERE k * @big_step + j < @big) AS g
	   JOIN ids_l AS lid ON lid.i = g.l
	   JOIN ids_p AS pid ON pid.i = g.p
	   JOIN ids_p AS abp ON abp.i = (g.p + 1) % @people,
	   LATERAL (SELECT now() - interval '350 days' + (k * @licenses + l) * (interval '350 days' / (@per * @licenses))) AS t(ts)`
	const kStep = 4
	for k0 := 0; k0 < perLicense; k0 += kStep {
		a := pgx.NamedArgs{"t": s.Tenant, "licenses": s.Licenses, "people": s.People, "k0": k0, "k1": min(k0+kStep, perLicense),
			"big_step": bigPerStep, "big": s.BigLicense, "per": perLicense}
		if _, err := c.Exec(ctx, direct, a); err != nil {
			return fmt.Errorf("direct grants k=%d: %w", k0, err)
		}
		if k0%(kStep*40) == 0 {
			log.Printf("  %s: direct grants %d/%d steps (%s)", s.Tenant, k0, perLicense, time.Since(start).Round(time.Second))
		}
	}
	// Group grants on every even license, each with its members' inherited
	// grants, as assignLicense makes them.
	groupSteps := []string{
		`CREATE TEMP TABLE gg AS
		 SELECT lid.id AS license_id, gid.id AS group_id, pg_temp.u7(ts, @t || ':ga:' || l) AS id, ts
		   FROM generate_series(2, @licenses - 1, 2) AS l
		   JOIN ids_l AS lid ON lid.i = l JOIN ids_g AS gid ON gid.i = (l * 13) % @groups,
		   LATERAL (SELECT now() - interval '200 days' + l * interval '1 hour') AS t(ts)`,
		`INSERT INTO assignments (tenant_id, id, license_id, group_id, assigned_at, assigned_by, created_at, updated_at, created_by, updated_by)
		 SELECT @t, id, license_id, group_id, ts, 'bench', ts, ts, 'bench', 'bench' FROM gg`,
		`INSERT INTO assignments (tenant_id, id, license_id, person_id, via_assignment_id, via_group_id, assigned_at, assigned_by,
		                          created_at, updated_at, created_by, updated_by)
		 SELECT @t, pg_temp.u7(gg.ts, @t || ':gi:' || gg.id || ':' || gm.person_id), gg.license_id, gm.person_id, gg.id, gg.group_id,
		        gg.ts, 'bench', gg.ts, gg.ts, 'bench', 'bench'
		   FROM gg JOIN group_members AS gm ON gm.tenant_id = @t AND gm.group_id = gg.group_id`,
		`DROP TABLE gg`, `DROP TABLE ids_l`, `DROP TABLE ids_p`, `DROP TABLE ids_g`,
	}
	for _, q := range groupSteps {
		if _, err := c.Exec(ctx, q, args); err != nil {
			return fmt.Errorf("%.60s…: %w", q, err)
		}
	}
	if _, err := c.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return err
	}
	if err := checkCounters(ctx, c, s.Tenant); err != nil {
		return err
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM assignments WHERE tenant_id = $1", s.Tenant).Scan(&n); err != nil {
		return err
	}
	took := time.Since(start)
	if _, err := c.Exec(ctx, "INSERT INTO bench_dataset (tenant, version, took) VALUES ($1, $2, $3)", s.Tenant, datasetVersion, took); err != nil {
		return err
	}
	log.Printf("generated %s: %d assignments in %s", s.Tenant, n, took.Round(time.Second))
	return nil
}

// checkCounters fails unless every license's seat counters equal a
// recount of its assignments (the definition the trigger keeps).
func checkCounters(ctx context.Context, c *pgx.Conn, tenant string) error {
	var bad int
	err := c.QueryRow(ctx, `
		WITH live AS (
		  SELECT license_id, coalesce(person_id::text, 'email:' || lower(email)) AS holder,
		         count(*) FILTER (WHERE waitlisted_at IS NULL AND group_id IS NULL) AS held,
		         count(*) FILTER (WHERE waitlisted_at IS NULL AND group_id IS NULL AND fulfilled) AS fulfilled,
		         count(*) FILTER (WHERE waitlisted_at IS NOT NULL) AS waiting
		    FROM assignments
		   WHERE tenant_id = $1 AND NOT is_deleted AND revoked_at IS NULL AND expired_at IS NULL
		   GROUP BY 1, 2),
		recount AS (
		  SELECT license_id, count(*) FILTER (WHERE held > 0) AS used,
		         count(*) FILTER (WHERE held > 0 AND fulfilled = 0) AS pending, sum(waiting) AS waitlisted
		    FROM live GROUP BY 1)
		SELECT count(*) FROM licenses AS l LEFT JOIN recount AS r ON r.license_id = l.id
		 WHERE l.tenant_id = $1
		   AND (l.seats_used, l.seats_pending, l.seats_waitlisted) IS DISTINCT FROM
		       (coalesce(r.used, 0)::int, coalesce(r.pending, 0)::int, coalesce(r.waitlisted, 0)::int)`, tenant).Scan(&bad)
	if err != nil {
		return err
	}
	if bad > 0 {
		return fmt.Errorf("%d licenses of %s have seat counters that differ from a recount", bad, tenant)
	}
	return nil
}

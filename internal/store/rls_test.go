package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"seatgraph/internal/apitest"
	"seatgraph/internal/store"
)

// Tables with a tenant_id column that row-level security does not force,
// and why (each decision is written down in its migration).
var rlsExceptions = map[string]string{
	"tenants":         "tenant names only, read by the background jobs before a tenant is chosen",
	"webhook_tenants": "tenant names only: the tenants with webhook endpoints, read by the delivery worker",
	"api_keys":        "looked up before the tenant is known: RLS enabled, SELECT-only policy, not forced for the owner",
}

// crossTenant marks, at its start, a statement the server's role sends
// without a tenant filter on purpose (these tests check that row-level
// security alone confines it). On Citus such a statement runs on every
// shard; scripts/citus/test.sh fails on any other multi-shard statement
// of the server's role.
const crossTenant = "/* cross-tenant */ "

// TestRowLevelSecurity proves the second wall between tenants: connected
// as the server's role, SQL that forgets the tenant filter still sees and
// changes only the tenant set for the transaction, and nothing at all when
// no tenant is set.
func TestRowLevelSecurity(t *testing.T) {
	ctx := context.Background()
	d := apitest.DB(t)
	db := d.Open(t)
	super := d.SQL(t)
	a, b := apitest.Tenant("rls-a"), apitest.Tenant("rls-b")
	for _, tenant := range []string{a, b} {
		f := apitest.NewFixture(t, db, tenant)
		l := f.License("Look-alike", 10)
		people := f.People("p", 3)
		g := f.Group("Team", people[0], people[1])
		f.Assign(l, people[2])
		f.AssignGroup(l, g, people[0], people[1])
		f.Invite(l, "invited@"+tenant+".example")
	}
	mustExec(t, super, `INSERT INTO assignment_events (tenant_id, id, assignment_id, type, actor)
		SELECT tenant_id, gen_random_uuid(), id, 'ASSIGNED', 'test' FROM assignments WHERE tenant_id IN ($1, $2)`, a, b)
	mustExec(t, super, `INSERT INTO license_snapshots (tenant_id, license_id, day, seats_total, seats_used, seats_pending,
		seats_waitlisted, holders_active, taken_at)
		SELECT tenant_id, id, current_date, total_seats, seats_used, seats_pending, seats_waitlisted, 0, now()
		FROM licenses WHERE tenant_id IN ($1, $2)`, a, b)
	mustExec(t, super, `INSERT INTO email_locks (tenant_id, email)
		SELECT tenant_id, lower(email) FROM people WHERE tenant_id IN ($1, $2)`, a, b)
	// The event outbox and webhooks (written by the unit of work and the
	// webhook mutations, which these fixtures do not go through).
	mustExec(t, super, `INSERT INTO event_streams (tenant_id, last_seq) SELECT t, 1 FROM unnest(ARRAY[$1::text, $2::text]) t`, a, b)
	mustExec(t, super, `INSERT INTO events (tenant_id, seq, id, type, occurred_at, actor, actor_type, subject_id, data)
		SELECT t, 1, gen_random_uuid(), 'license.created', now(), 'test', 'API', gen_random_uuid(), '{}'
		FROM unnest(ARRAY[$1::text, $2::text]) t`, a, b)
	mustExec(t, super, `INSERT INTO webhook_endpoints (tenant_id, id, url, secret, created_at, updated_at, created_by, updated_by)
		SELECT t, gen_random_uuid(), 'https://hooks.example/in', 'whsec_test', now(), now(), 'test', 'test'
		FROM unnest(ARRAY[$1::text, $2::text]) t`, a, b)
	mustExec(t, super, `INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, event_seq, created_at)
		SELECT tenant_id, gen_random_uuid(), id, 1, now() FROM webhook_endpoints WHERE tenant_id IN ($1, $2)`, a, b)
	// Reclaim policies and their warnings (the reclaim job's tables).
	mustExec(t, super, `INSERT INTO reclaim_policies (tenant_id, license_id, inactive_days, grace_days, action, enabled,
		created_at, updated_at, created_by, updated_by)
		SELECT tenant_id, id, 30, 7, 'REVOKE', true, now(), now(), 'test', 'test' FROM licenses WHERE tenant_id IN ($1, $2)`, a, b)
	mustExec(t, super, `INSERT INTO reclaim_warnings (tenant_id, assignment_id, license_id, warned_at, unused_since)
		SELECT tenant_id, id, license_id, now(), assigned_at FROM assignments
		WHERE tenant_id IN ($1, $2) AND person_id IS NOT NULL AND via_assignment_id IS NULL`, a, b)

	app, err := sql.Open("pgx", d.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Close() })
	tables := tenantTables(t, super)

	t.Run("the server's role is bound by row-level security", func(t *testing.T) {
		var super, bypass bool
		var owned int
		err := app.QueryRow(`SELECT rolsuper, rolbypassrls,
			(SELECT count(*) FROM pg_tables WHERE tableowner = current_user)
			FROM pg_roles WHERE rolname = current_user`).Scan(&super, &bypass, &owned)
		if err != nil {
			t.Fatal(err)
		}
		if super || bypass || owned > 0 {
			t.Fatalf("app role: superuser=%v bypassrls=%v owns %d tables", super, bypass, owned)
		}
	})

	t.Run("every tenant table enables and forces row-level security", func(t *testing.T) {
		for _, table := range tables {
			var enabled, forced bool
			if err := super.QueryRow(`SELECT relrowsecurity, relforcerowsecurity FROM pg_class
				WHERE oid = $1::regclass`, table).Scan(&enabled, &forced); err != nil {
				t.Fatal(err)
			}
			if _, ok := rlsExceptions[table]; ok {
				continue
			}
			if !enabled || !forced {
				t.Errorf("%s: row level security enabled=%v forced=%v", table, enabled, forced)
			}
		}
	})

	t.Run("a query that forgets the tenant filter sees only the current tenant", func(t *testing.T) {
		inTenant(t, app, a, func(tx *sql.Tx) {
			for _, table := range tables {
				if table == "tenants" || table == "webhook_tenants" {
					continue
				}
				var want int
				if err := super.QueryRow("SELECT count(*) FROM "+table+" WHERE tenant_id = $1", a).Scan(&want); err != nil {
					t.Fatal(err)
				}
				var n int
				var tenants []string
				rows, err := tx.Query(crossTenant + "SELECT DISTINCT tenant_id, count(*) OVER () FROM " + table)
				if err != nil {
					t.Fatalf("%s: %v", table, err)
				}
				for rows.Next() {
					var tenant string
					if err := rows.Scan(&tenant, &n); err != nil {
						t.Fatal(err)
					}
					tenants = append(tenants, tenant)
				}
				rows.Close()
				if table == "api_keys" {
					continue // no keys in this test: see the apikey tests
				}
				if want == 0 || n != want || !slices.Equal(tenants, []string{a}) {
					t.Errorf("%s: saw tenants %v, %d rows; want only %s's %d rows", table, tenants, n, a, want)
				}
			}
		})
	})

	t.Run("with no tenant set nothing is visible", func(t *testing.T) {
		for _, table := range tables {
			if table == "tenants" || table == "webhook_tenants" {
				continue
			}
			var n int
			if err := app.QueryRow(crossTenant + "SELECT count(*) FROM " + table).Scan(&n); err != nil {
				t.Fatalf("%s: %v", table, err)
			}
			if n != 0 {
				t.Errorf("%s: %d rows visible with no tenant set", table, n)
			}
		}
	})

	t.Run("rows of another tenant cannot be written", func(t *testing.T) {
		before := snapshot(t, super, b)
		inTenant(t, app, a, func(tx *sql.Tx) {
			_, err := tx.Exec(`INSERT INTO licenses (tenant_id, id, name, created_by, updated_by)
				VALUES ($1, gen_random_uuid(), 'Planted', 'x', 'x')`, b)
			if code := sqlState(err); code != "42501" {
				t.Errorf("insert for another tenant: %v (SQLSTATE %s), want an RLS violation (42501)", err, code)
			}
		})
		inTenant(t, app, a, func(tx *sql.Tx) {
			for _, stmt := range []string{
				"UPDATE licenses SET name = 'Hijacked' WHERE tenant_id = $1",
				"UPDATE people SET email = 'x@evil.example' WHERE tenant_id = $1",
				"DELETE FROM group_members WHERE tenant_id = $1",
				"UPDATE assignments SET active = false WHERE tenant_id = $1",
			} {
				res, err := tx.Exec(stmt, b)
				if err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
				if n, _ := res.RowsAffected(); n != 0 {
					t.Errorf("%s: changed %d rows of another tenant", stmt, n)
				}
			}
		})
		inTenant(t, app, a, func(tx *sql.Tx) {
			_, err := tx.Exec(crossTenant+"UPDATE groups SET tenant_id = $1", b)
			// On Citus the distribution column cannot change at all (0A000).
			if code := sqlState(err); code != "42501" && !(d.Citus() && code == "0A000") {
				t.Errorf("moving rows to another tenant: %v, want an RLS violation", err)
			}
		})
		if after := snapshot(t, super, b); after != before {
			t.Errorf("tenant %s changed: %s -> %s", b, before, after)
		}
	})

	t.Run("through the store, an unfiltered statement changes only the tenant's rows", func(t *testing.T) {
		before := snapshot(t, super, b)
		err := db.Write(ctx, store.Tenant{ID: a}, func(s store.Scope) error {
			_, err := s.Exec(ctx, crossTenant+"UPDATE licenses SET vendor = 'Changed by A'")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var changed int
		if err := super.QueryRow("SELECT count(*) FROM licenses WHERE vendor = 'Changed by A' AND tenant_id = $1", a).
			Scan(&changed); err != nil || changed != 1 {
			t.Errorf("tenant %s: %d licenses changed (%v), want 1", a, changed, err)
		}
		if after := snapshot(t, super, b); after != before {
			t.Errorf("tenant %s changed: %s -> %s", b, before, after)
		}
	})
}

// TestStatementTimeout proves that every transaction the store begins is
// bounded by the statement timeout, and that the setting ends with it.
func TestStatementTimeout(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, apitest.DB(t).AppURL, store.Options{MaxConns: 1, StatementTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	tenant := store.Tenant{ID: apitest.Tenant("timeout")}
	sleep := func(seconds float64) func(store.Scope) error {
		return func(s store.Scope) error {
			_, err := s.Exec(ctx, "SELECT pg_sleep(?)", seconds)
			return err
		}
	}

	start := time.Now()
	err = db.Write(ctx, tenant, sleep(3))
	if code := sqlState(err); code != "57014" || time.Since(start) > 2*time.Second {
		t.Errorf("write sleeping 3s: %v after %s, want query_canceled (57014) after about 200ms", err, time.Since(start))
	}

	sess := db.Session(ctx, tenant)
	err = sess.Read(ctx, sleep(3))
	if code := sqlState(err); code != "57014" {
		t.Errorf("read sleeping 3s: %v, want query_canceled (57014)", err)
	}
	if err := sess.Read(ctx, sleep(0.01)); err != nil {
		t.Errorf("a short statement after the cancelled one: %v", err)
	}
	if err := sess.Close(); err != nil {
		t.Fatal(err)
	}

	// Outside a scope, a pooled connection runs without the timeout.
	var setting string
	if err := db.SQL().QueryRowContext(ctx, "SHOW statement_timeout").Scan(&setting); err != nil {
		t.Fatal(err)
	}
	if setting != "0" {
		t.Errorf("statement_timeout outside a transaction = %s, want the server default 0", setting)
	}
}

// TestTenantSettingSafe proves the tenant setting cannot be broken out
// of: the store's connections keep standard_conforming_strings on even
// where the database turns it off (so a backslash never escapes bun's
// quoting), and a tenant outside store.CheckTenantID's form is refused
// before any statement is sent.
func TestTenantSettingSafe(t *testing.T) {
	ctx := context.Background()
	d := apitest.DB(t)
	super := d.SQL(t)
	if _, err := super.Exec(fmt.Sprintf("ALTER DATABASE %s SET standard_conforming_strings = off", d.Name)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = super.Exec(fmt.Sprintf("ALTER DATABASE %s RESET standard_conforming_strings", d.Name))
	})
	var plain string
	if err := d.SQL(t).QueryRow("SHOW standard_conforming_strings").Scan(&plain); err != nil || plain != "off" {
		t.Fatalf("a new session without the store's option has standard_conforming_strings %q (%v), want off", plain, err)
	}

	db := d.Open(t)
	var setting string
	err := db.Write(ctx, store.Tenant{ID: apitest.Tenant("scs")}, func(s store.Scope) error {
		return s.Compose().ColumnExpr("current_setting('standard_conforming_strings')").Scan(ctx, &setting)
	})
	if err != nil || setting != "on" {
		t.Errorf("standard_conforming_strings in a store transaction = %q (%v), want on", setting, err)
	}

	tenant := `o'brien\'; RESET app.tenant_id; --`
	before := db.Statements()
	err = db.Write(ctx, store.Tenant{ID: tenant}, func(store.Scope) error { return nil })
	if !errors.Is(err, store.ErrBadTenant) {
		t.Errorf("Write for tenant %q: %v, want store.ErrBadTenant", tenant, err)
	}
	if n := db.Statements() - before; n != 0 {
		t.Errorf("Write for tenant %q sent %d statements, want none", tenant, n)
	}
}

// TestTenantSettingEndsWithScope proves that the tenant setting a pooled
// connection carries for a Scope is gone for the next statement run
// outside any Scope on the same connection, and is the new tenant's for
// the next Scope: no code path inherits another's tenant.
func TestTenantSettingEndsWithScope(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, apitest.DB(t).AppURL, store.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	setting := func(s store.Scope) (string, error) {
		var v string
		err := s.Compose().ColumnExpr("current_setting('app.tenant_id', true)").Scan(ctx, &v)
		return v, err
	}
	for _, tenant := range []string{apitest.Tenant("setting-a"), apitest.Tenant("setting-b")} {
		var inside string
		err := db.Session(ctx, store.Tenant{ID: tenant}).Read(ctx, func(s store.Scope) (err error) {
			inside, err = setting(s)
			return err
		})
		if err != nil || inside != tenant {
			t.Fatalf("inside a scope of %s: setting %q, %v", tenant, inside, err)
		}
		var outside sql.NullString
		if err := db.SQL().QueryRowContext(ctx, "SELECT current_setting('app.tenant_id', true)").Scan(&outside); err != nil {
			t.Fatal(err)
		}
		if outside.String != "" {
			t.Errorf("outside any scope, after %s's: setting %q, want none", tenant, outside.String)
		}
	}
}

// tenantTables lists the tables of the schema that have a tenant_id column.
func tenantTables(t *testing.T, super *sql.DB) []string {
	t.Helper()
	rows, err := super.Query(`SELECT table_name FROM information_schema.columns
		WHERE table_schema = 'public' AND column_name = 'tenant_id' ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		out = append(out, name)
	}
	for _, want := range []string{"licenses", "people", "groups", "group_members", "assignments", "assignment_events", "seat_holders"} {
		if !slices.Contains(out, want) {
			t.Fatalf("table %s not found among %v", want, out)
		}
	}
	return out
}

// inTenant runs fn in a transaction of the app connection with the tenant
// setting the store uses, and rolls it back.
func inTenant(t *testing.T, app *sql.DB, tenant string, fn func(*sql.Tx)) {
	t.Helper()
	tx, err := app.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	apitest.SetTenant(t, tx, tenant)
	fn(tx)
}

// snapshot digests every row of tenant in every tenant table.
func snapshot(t *testing.T, super *sql.DB, tenant string) string {
	t.Helper()
	var digest string
	err := super.QueryRow(`SELECT md5(
		(SELECT coalesce(string_agg(l::text, ',' ORDER BY l.id), '') FROM licenses l WHERE tenant_id = $1) ||
		(SELECT coalesce(string_agg(p::text, ',' ORDER BY p.id), '') FROM people p WHERE tenant_id = $1) ||
		(SELECT coalesce(string_agg(g::text, ',' ORDER BY g.id), '') FROM groups g WHERE tenant_id = $1) ||
		(SELECT coalesce(string_agg(m::text, ',' ORDER BY m.group_id, m.person_id), '') FROM group_members m WHERE tenant_id = $1) ||
		(SELECT coalesce(string_agg(a::text, ',' ORDER BY a.id), '') FROM assignments a WHERE tenant_id = $1) ||
		(SELECT coalesce(string_agg(s::text, ',' ORDER BY s.license_id, s.holder), '') FROM seat_holders s WHERE tenant_id = $1))`,
		tenant).Scan(&digest)
	if err != nil {
		t.Fatal(err)
	}
	return digest
}

func mustExec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatal(err)
	}
}

func sqlState(err error) string {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code
	}
	return ""
}

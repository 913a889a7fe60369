package store_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/apitest"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// TestScanAsBun: Scope.Scan (a Session's reads, through pgx) reads every
// column of the models it serves as bun's scan reads it: nullable
// columns NULL and set, costs with their scale (0.00), JSON metadata,
// timestamps to the microsecond, scan-only joined columns, per-parent
// rows through Lateral.
func TestScanAsBun(t *testing.T) {
	ctx := context.Background()
	d := apitest.DB(t)
	db := d.Open(t)
	super := d.SQL(t)
	tenant := apitest.Tenant("scanasbun")
	f := apitest.NewFixture(t, db, tenant)
	plain := f.License("Plain", 0)
	rich := f.License("Rich", 3)
	people := f.People("p", 3)
	g := f.Group("Team", people[0], people[1])
	f.Assign(rich, people[2])
	f.AssignGroup(plain, g, people[0], people[1])
	f.Invite(rich, "invited@"+tenant+".example")
	mustExec(t, super, `UPDATE licenses SET program_key = 'k-1', starts_at = '2001-02-03 04:05:06.789012+00',
		expires_at = '2099-12-31 23:59:59.999999+00', asset_id = 'a', cost_per_seat = 0.00, cost_currency = 'USD',
		billing_period = 'MONTHLY', renews_at = now(), low_seats_threshold = 0, app_id = 'app',
		metadata = '{"n": 12345678901234567, "f": 1.5, "s": "é \u2028 <b>", "nested": {"a": [1, null, true]}, "empty": {}}'
		WHERE tenant_id = $1 AND id = $2`, tenant, rich.ID)
	mustExec(t, super, `UPDATE licenses SET cost_per_seat = 12.500000, cost_currency = 'EUR', billing_period = 'ANNUAL'
		WHERE tenant_id = $1 AND id = $2`, tenant, plain.ID)
	mustExec(t, super, `UPDATE assignments SET expires_at = now() + interval '1 day', last_used_at = now(),
		redirect_to = 'https://example.com/?a=1&b=<2>', revoke_reason = 'why', metadata = '{"k": "v"}', is_deleted = true,
		deleted_at = now(), deleted_by = 'me' WHERE tenant_id = $1 AND person_id = $2`, tenant, people[2].ID)
	mustExec(t, super, `UPDATE people SET username = 'u', external_id = 'ext', active = false WHERE tenant_id = $1 AND id = $2`,
		tenant, people[0].ID)
	mustExec(t, super, `UPDATE groups SET description = 'd', external_id = 'e' WHERE tenant_id = $1 AND id = $2`, tenant, g.ID)
	mustExec(t, super, `INSERT INTO assignment_events (tenant_id, id, assignment_id, type, actor, changes)
		SELECT tenant_id, gen_random_uuid(), id, 'ASSIGNED', 'test', '{"from": null, "to": {"x": [1.25]}}' FROM assignments WHERE tenant_id = $1`, tenant)

	sess := db.Session(ctx, store.Tenant{ID: tenant})
	same := func(name string, read func(s store.Scope, viaPgx bool) (any, error)) {
		t.Helper()
		var viaPgx, viaBun any
		// Twice on one connection: the second read decodes with the plans
		// the connection kept from the first.
		var again any
		if err := sess.Read(ctx, func(s store.Scope) (err error) {
			if viaPgx, err = read(s, true); err != nil {
				return err
			}
			again, err = read(s, true)
			return err
		}); err != nil {
			t.Fatalf("%s through Scope.Scan: %v", name, err)
		}
		if a, b := jsonOf(viaPgx), jsonOf(again); a != b {
			t.Errorf("%s: Scope.Scan read\n%s\nthen\n%s", name, a, b)
		}
		if err := sess.Read(ctx, func(s store.Scope) (err error) { viaBun, err = read(s, false); return err }); err != nil {
			t.Fatalf("%s through bun: %v", name, err)
		}
		a, b := jsonOf(viaPgx), jsonOf(viaBun)
		if a != b {
			t.Errorf("%s: Scope.Scan read\n%s\nbun read\n%s", name, a, b)
		}
		if len(b) < 10 {
			t.Errorf("%s: read nothing (%s)", name, b)
		}
	}
	scan := func(s store.Scope, viaPgx bool, q *bun.SelectQuery, dest any) error {
		if viaPgx {
			return s.Scan(ctx, q, dest)
		}
		return q.Scan(ctx, dest)
	}
	same("licenses", func(s store.Scope, viaPgx bool) (any, error) {
		var rows []*models.License
		return &rows, scan(s, viaPgx, s.Select((*models.License)(nil)).ColumnExpr("l.*").OrderExpr("l.id"), &rows)
	})
	same("assignments", func(s store.Scope, viaPgx bool) (any, error) {
		var rows []*models.Assignment
		return &rows, scan(s, viaPgx, s.Select((*models.Assignment)(nil)).
			Join("JOIN licenses AS l ON l.tenant_id = a.tenant_id AND l.id = a.license_id").ColumnExpr("a.*").
			ColumnExpr("l.name AS license_name, l.program_key, l.expires_at AS license_expires_at").OrderExpr("a.id"), &rows)
	})
	same("people", func(s store.Scope, viaPgx bool) (any, error) {
		var rows []*models.Person
		return &rows, scan(s, viaPgx, s.Select((*models.Person)(nil)).OrderExpr("p.id"), &rows)
	})
	same("groups", func(s store.Scope, viaPgx bool) (any, error) {
		var rows []*models.Group
		return &rows, scan(s, viaPgx, s.Select((*models.Group)(nil)).OrderExpr("g.id"), &rows)
	})
	same("events", func(s store.Scope, viaPgx bool) (any, error) {
		var rows []*models.AssignmentEvent
		return &rows, scan(s, viaPgx, s.Select((*models.AssignmentEvent)(nil)).OrderExpr("e.id"), &rows)
	})
	same("members", func(s store.Scope, viaPgx bool) (any, error) {
		var rows []*struct {
			models.Person
			Parent *string `bun:"parent,scanonly"`
		}
		q := s.Select((*models.Person)(nil)).ColumnExpr("p.*").ColumnExpr("gm.group_id::text AS parent").
			Join("JOIN group_members AS gm ON gm.tenant_id = p.tenant_id AND gm.person_id = p.id").OrderExpr("p.id")
		return &rows, scan(s, viaPgx, q, &rows)
	})
	same("assignments per license (Lateral)", func(s store.Scope, viaPgx bool) (any, error) {
		var rows []*models.Assignment
		inner := s.Select((*models.Assignment)(nil)).
			Join("JOIN licenses AS l ON l.tenant_id = a.tenant_id AND l.id = a.license_id").ColumnExpr("a.*").
			ColumnExpr("l.name AS license_name, l.program_key, l.expires_at AS license_expires_at").
			Where("a.license_id = parent.id").OrderExpr("a.id").Limit(3)
		ids := []uuid.UUID{rich.ID, plain.ID}
		if viaPgx {
			return &rows, s.Lateral(ctx, ids, inner, &rows)
		}
		return &rows, s.Compose().TableExpr("unnest(?) AS parent(id)", store.UUIDs(ids)).
			Join("CROSS JOIN LATERAL (?) AS row", inner).ColumnExpr("row.*").Scan(ctx, &rows)
	})
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

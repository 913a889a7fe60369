package store_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/apitest"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// TestReadsPlannedOnce: a read the server repeats with other values is
// planned once per connection, not at every execution. PostgreSQL's own
// choice kept re-planning the reads of a page's related records (ids =
// ANY($1) with one id) and of per-parent pages (unnest($1) … LATERAL with
// one parent): their generic plan is estimated for ten values, so the
// custom plan of one value always looked cheaper, and planning the lateral
// read cost four times its execution (0.2 ms against 0.05 ms at 1M rows).
//
// On Citus the pool leaves the choice to PostgreSQL (auto): the
// coordinator cannot plan most distributed statements without their values.
func TestReadsPlannedOnce(t *testing.T) {
	ctx := context.Background()
	d := apitest.DB(t)
	db, err := store.Open(ctx, d.AppURL, store.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	tenant := store.Tenant{ID: apitest.Tenant("planonce")}
	f := apitest.NewFixture(t, db, tenant.ID)
	people := f.People("p", 8)
	lic := f.License("Plan", 0)
	for _, p := range people {
		f.Assign(lic, p)
	}
	sess := db.Session(ctx, tenant)
	var mode string
	if err := sess.Read(ctx, func(s store.Scope) error {
		return s.Compose().ColumnExpr("current_setting('plan_cache_mode')").Scan(ctx, &mode)
	}); err != nil {
		t.Fatal(err)
	}
	if d.Citus() {
		if mode != "auto" {
			t.Fatalf("plan_cache_mode on Citus: %q, want auto", mode)
		}
		t.Skip("Citus plans distributed statements for their values")
	}
	for _, p := range people {
		got, err := store.ByID(ctx, sess, []uuid.UUID{p.ID}, func(s store.Scope) *bun.SelectQuery {
			return s.Select((*models.Person)(nil))
		}, "p.id", func(p *models.Person) uuid.UUID { return p.ID })
		if err != nil || got[p.ID] == nil {
			t.Fatalf("person %s by id: %v, %v", p.ID, got, err)
		}
		var grants []*models.Assignment
		err = sess.Read(ctx, func(s store.Scope) error {
			inner := s.Select((*models.Assignment)(nil)).Where("a.person_id = parent.id").OrderExpr("a.id").Limit(51)
			return s.Lateral(ctx, []uuid.UUID{p.ID}, inner, &grants)
		})
		if err != nil || len(grants) != 1 {
			t.Fatalf("grants of %s: %d, %v", p.ID, len(grants), err)
		}
	}
	for what, like := range map[string]string{"by id": `%p.id = ANY($%`, "per parent": `%unnest($%a.person_id = parent.id%`} {
		var custom, generic int64
		err := sess.Read(ctx, func(s store.Scope) error {
			return s.Compose().ColumnExpr("coalesce(sum(custom_plans), 0), coalesce(sum(generic_plans), 0)").
				TableExpr("pg_prepared_statements").Where("statement LIKE ?", like).Scan(ctx, &custom, &generic)
		})
		if err != nil {
			t.Fatal(err)
		}
		if custom != 0 || generic != int64(len(people)) {
			t.Errorf("%s: %d reads were planned %d times for their values and ran a reused plan %d times; want 0 and %d",
				what, len(people), custom, generic, len(people))
		}
	}
}

package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/apitest"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// TestScanIDs: an UPDATE … RETURNING a.id read through ScanIDs returns
// the ids it updated, the same through pgx (WriteStatement) as through bun
// (inside a transaction), and only the scope's tenant's rows.
func TestScanIDs(t *testing.T) {
	ctx := context.Background()
	d := apitest.DB(t)
	db := d.Open(t)
	tenant := apitest.Tenant("scanids")
	f := apitest.NewFixture(t, db, tenant)
	lic := f.License("L", 0)
	people := f.People("p", 3)
	var want []uuid.UUID
	for _, a := range f.Assign(lic, people[:2]...) {
		want = append(want, a.ID)
	}
	other := apitest.Tenant("scanids-other")
	g := apitest.NewFixture(t, db, other)
	foreign := g.Assign(g.License("L", 0), g.People("q", 1)...)[0].ID
	slices.SortFunc(want, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })

	update := func(s store.Scope) *bun.UpdateQuery {
		return s.Update((*models.Assignment)(nil)).Set("revoke_reason = 'scanids'").
			Where("a.id IN (?)", bun.List(append(slices.Clone(want), foreign))).Returning("a.id")
	}
	sorted := func(ids []uuid.UUID) []uuid.UUID {
		slices.SortFunc(ids, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
		return ids
	}
	var viaPgx, viaBun []uuid.UUID
	if err := db.WriteStatement(ctx, store.Tenant{ID: tenant}, func(s store.Scope) error {
		return s.ScanIDs(ctx, update(s), &viaPgx)
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, store.Tenant{ID: tenant}, func(s store.Scope) error {
		return s.ScanIDs(ctx, update(s), &viaBun)
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sorted(viaPgx), want) || !slices.Equal(sorted(viaBun), want) {
		t.Errorf("ids through pgx %v, through bun %v; want the tenant's %v", viaPgx, viaBun, want)
	}
}

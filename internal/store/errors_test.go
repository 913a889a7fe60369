package store_test

import (
	"context"
	"strings"
	"testing"

	"seatgraph/internal/apitest"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// TestViolationNamesConstraint: a unique, check or foreign key violation
// names the constraint the migrations made, on plain PostgreSQL and on
// Citus alike (where the error comes from a shard, whose copy of the
// constraint may have the shard id in its name, and reaches the client
// without its constraint field). The services tell violations apart by name: a seat limit
// reached, a person's username taken, two grants of one license racing.
func TestViolationNamesConstraint(t *testing.T) {
	ctx := context.Background()
	db := apitest.DB(t).Open(t)
	tenant := apitest.Tenant("violation")
	f := apitest.NewFixture(t, db, tenant)
	l := f.License("One seat", 1)
	p := f.Person("dup@violation.example")
	g := f.Group("Team", p)

	write := func(fn func(store.Scope) error) error {
		return db.Write(ctx, store.Tenant{ID: tenant}, fn)
	}
	for _, c := range []struct {
		name, code, constraint string
		err                    error
	}{
		{"unique", store.UniqueViolation, "people_email_key", write(func(s store.Scope) error {
			twin := &models.Person{Record: models.NewRecord(tenant, nil, "test", "test", models.SourceAPI, p.CreatedAt),
				Email: strings.ToUpper(p.Email), Name: "Twin", Active: true}
			_, err := s.Insert(twin).Exec(ctx)
			return err
		})},
		{"check", store.CheckViolation, "licenses_seats_within_total", write(func(s store.Scope) error {
			_, err := s.Exec(ctx, "UPDATE licenses SET seats_used = 2 WHERE tenant_id = ? AND id = ?", tenant, l.ID)
			return err
		})},
		// (On Citus, the message names the shards of both tables.)
		{"foreign key", store.ForeignKeyViolation, "group_members_tenant_id_group_id_fkey", write(func(s store.Scope) error {
			_, err := s.Exec(ctx, "DELETE FROM groups WHERE tenant_id = ? AND id = ?", tenant, g.ID)
			return err
		})},
	} {
		code, constraint, ok := store.Violation(c.err)
		if !ok || code != c.code || constraint != c.constraint {
			t.Errorf("%s violation: code %q, constraint %q (a PostgreSQL error: %v), want %q and %q; error: %v",
				c.name, code, constraint, ok, c.code, c.constraint, c.err)
		}
	}
}

package store_test

import (
	"context"
	"testing"

	"seatgraph/internal/apitest"
	"seatgraph/internal/store"
)

// TestBeforeStatements: a read or a write in a context given by
// BeforeStatements calls its function first, with that context, before it
// takes a connection: the loaders start the read's sibling fields then.
func TestBeforeStatements(t *testing.T) {
	d := apitest.DB(t)
	db := d.Open(t)
	tenant := store.Tenant{ID: apitest.Tenant("beforestatements")}
	type key struct{}
	var calls []any
	ctx := store.BeforeStatements(context.WithValue(context.Background(), key{}, "request"), func(ctx context.Context) {
		calls = append(calls, ctx.Value(key{}))
	})
	if err := db.Session(ctx, tenant).Read(ctx, func(s store.Scope) error {
		if len(calls) != 1 {
			t.Errorf("the read's function ran after %d calls, want 1 first", len(calls))
		}
		_, err := s.Exec(ctx, "SELECT 1")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.WriteStatement(ctx, tenant, func(s store.Scope) error { _, err := s.Exec(ctx, "SELECT 1"); return err }); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || calls[0] != "request" || calls[1] != "request" {
		t.Errorf("calls %v, want the request's context before the read and before the write", calls)
	}
	// Without it, nothing is called.
	if err := db.Session(context.Background(), tenant).Read(context.Background(), func(store.Scope) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 {
		t.Errorf("a context without BeforeStatements called it (%d calls)", len(calls))
	}
}

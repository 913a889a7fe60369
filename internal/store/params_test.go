package store_test

import (
	"context"
	"testing"
	"time"

	"seatgraph/internal/apitest"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// TestPlansReused proves that statements go to PostgreSQL with their
// values as parameters: reads of one shape with different values share
// one prepared statement on the connection, and values PostgreSQL would
// need quoted (quotes, backslashes, a marker-like text) come back exactly.
func TestPlansReused(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, apitest.DB(t).AppURL, store.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	tenant := store.Tenant{ID: apitest.Tenant("prepared")}
	names := []string{"O'Reilly \\ Partners", "plain", `\x00s41`, "ünïcødé ✓"}
	at := time.Date(2026, 1, 2, 3, 4, 5, 678000, time.UTC)
	for _, name := range names {
		err := db.Write(ctx, tenant, func(s store.Scope) error {
			l := &models.License{Record: models.NewRecord(tenant.ID, nil, "test", "edm", models.SourceAPI, at), Name: name,
				Metadata: map[string]any{"note": name}}
			_, err := s.Insert(l).Exec(ctx)
			return err
		})
		if err != nil {
			t.Fatalf("insert %q: %v", name, err)
		}
	}
	sess := db.Session(ctx, tenant)
	for _, name := range names {
		var got []*models.License
		err := sess.Read(ctx, func(s store.Scope) error {
			return s.Select(&got).Where("l.name = ?", name).Where("l.created_at = ?", at).Scan(ctx)
		})
		if err != nil || len(got) != 1 || got[0].Name != name || got[0].Metadata["note"] != name {
			t.Fatalf("read back %q: %v, %+v", name, err, got)
		}
	}
	var prepared int
	err = sess.Read(ctx, func(s store.Scope) error {
		return s.Compose().ColumnExpr("count(*)").TableExpr("pg_prepared_statements").
			Where("statement LIKE ?", `%l.name = $%`).Scan(ctx, &prepared)
	})
	if err != nil || prepared != 1 {
		t.Errorf("reads by name with %d different values made %d prepared statements (%v), want 1", len(names), prepared, err)
	}
}

// TestPreparedRunsTheStatementWithItsValues: the PREPARE and EXECUTE that
// Prepared writes for a statement as the pool builds it (values as
// markers) run on PostgreSQL and give back exactly the values, quotes and
// backslashes included, as the tools that show the server's plans need.
func TestPreparedRunsTheStatementWithItsValues(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, apitest.DB(t).AppURL, store.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	name := `O'Reilly \ "Partners"`
	at := time.Date(2026, 1, 2, 3, 4, 5, 678000, time.UTC)
	query, err := db.Bun().NewSelect().ColumnExpr("?::text AS name, ?::timestamptz AS at", name, at).AppendQuery(db.Bun().QueryGen(), nil)
	if err != nil {
		t.Fatal(err)
	}
	prepare, execute := store.Prepared("prepared_test", string(query))
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, prepare); err != nil {
		t.Fatalf("%s: %v", prepare, err)
	}
	defer conn.ExecContext(ctx, "DEALLOCATE prepared_test") //nolint:errcheck
	var gotName string
	var gotAt time.Time
	if err := conn.QueryRowContext(ctx, execute).Scan(&gotName, &gotAt); err != nil {
		t.Fatalf("%s: %v", execute, err)
	}
	if gotName != name || !gotAt.Equal(at) {
		t.Errorf("%s gave %q, %v; want %q, %v", execute, gotName, gotAt, name, at)
	}
}

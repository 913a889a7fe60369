package graph_test

import (
	"database/sql"
	"testing"

	"github.com/google/uuid"

	"seatgraph/internal/gid"
)

// tenantTypeIDs reads, as the superuser, the TypeID of every record of a
// tenant: licenses, assignments, people, groups and assignment events.
func tenantTypeIDs(t testing.TB, db *sql.DB, tenant string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for table, kind := range map[string]gid.Kind{
		"licenses": gid.License, "assignments": gid.Assignment, "people": gid.Person,
		"groups": gid.Group, "assignment_events": gid.Event,
	} {
		for _, u := range sqlUUIDs(t, db, "SELECT id FROM "+table+" WHERE tenant_id = $1", tenant) {
			ids[kind.Format(u)] = true
		}
	}
	return ids
}

// sqlUUIDs runs a query returning one uuid column, as the superuser.
func sqlUUIDs(t testing.TB, db *sql.DB, query string, args ...any) []uuid.UUID {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []uuid.UUID
	for rows.Next() {
		var u uuid.UUID
		if err := rows.Scan(&u); err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sqlUUID runs a query that must return exactly one uuid.
func sqlUUID(t testing.TB, db *sql.DB, query string, args ...any) uuid.UUID {
	t.Helper()
	us := sqlUUIDs(t, db, query, args...)
	if len(us) != 1 {
		t.Fatalf("%s %v: got %d rows, want 1", query, args, len(us))
	}
	return us[0]
}

// sqlScalarInt runs a query returning one integer, as the superuser.
func sqlScalarInt(t testing.TB, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// sqlExec runs a statement as the superuser.
func sqlExec(t testing.TB, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

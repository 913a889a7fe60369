package store_test

import (
	"context"
	"strings"
	"testing"

	"seatgraph/internal/apitest"
	"seatgraph/internal/store"
)

// TestGenericPlansRefusedOnCitus: PLAN_CACHE_MODE=force_generic_plan on
// Citus stops the server at the start with a clear error, rather than
// failing most statements ("could not create distributed plan").
func TestGenericPlansRefusedOnCitus(t *testing.T) {
	d := apitest.DB(t)
	if !d.Citus() {
		t.Skip("runs in the Citus mode of the suite (make test-citus)")
	}
	db, err := store.Open(context.Background(), d.AppURL, store.Options{MaxConns: 1, PlanCacheMode: store.GenericPlans})
	if err == nil {
		_ = db.Close()
		t.Fatal("a pool with plan_cache_mode force_generic_plan opened on Citus")
	}
	if !strings.Contains(err.Error(), "use auto") {
		t.Fatalf("error %q does not say to use auto", err)
	}
}

// TestEveryTableDistributed holds scripts/citus/distribute.sql to the rule
// of docs/scale-out.md: on Citus, every table of the schema is either a
// tenant table distributed by tenant_id in the co-location group of
// licenses, or a reference table. A migration that adds a table without
// adding it to distribute.sql fails here (in the Citus mode of the suite).
func TestEveryTableDistributed(t *testing.T) {
	d := apitest.DB(t)
	if !d.Citus() {
		t.Skip("runs in the Citus mode of the suite (make test-citus)")
	}
	rows, err := d.SQL(t).Query(`
		SELECT c.relname,
		       coalesce(p.partmethod::text, 'local'),
		       coalesce(column_to_column_name(p.logicalrelid, p.partkey), ''),
		       p.colocationid IS NOT DISTINCT FROM
		           (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'licenses'::regclass),
		       EXISTS (SELECT FROM information_schema.columns i
		                WHERE i.table_schema = 'public' AND i.table_name = c.relname AND i.column_name = 'tenant_id')
		  FROM pg_class c
		  JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
		  LEFT JOIN pg_dist_partition p ON p.logicalrelid = c.oid
		 WHERE c.relkind IN ('r', 'p') AND c.relname NOT LIKE 'bun\_%'
		 ORDER BY c.relname`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	reference := map[string]bool{}
	for _, tb := range readPlacement(t).reference {
		reference[tb] = true
	}
	seen := 0
	for rows.Next() {
		var table, method, column string
		var colocated, hasTenant bool
		if err := rows.Scan(&table, &method, &column, &colocated, &hasTenant); err != nil {
			t.Fatal(err)
		}
		seen++
		switch {
		case reference[table]:
			if method != "n" {
				t.Errorf("%s: distribution %q, want a reference table", table, method)
			}
		case !hasTenant:
			t.Errorf("%s has no tenant_id and is no reference table: add it to distribute.sql's reference list", table)
		case method != "h" || column != "tenant_id" || !colocated:
			t.Errorf("%s: distribution %q by %q (co-located with licenses: %v), want hash by tenant_id, co-located",
				table, method, column, colocated)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if seen < 10 {
		t.Fatalf("saw %d tables, want the whole schema", seen)
	}
}

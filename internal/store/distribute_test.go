package store_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"seatgraph/internal/apitest"
)

// placement is what scripts/citus/distribute.sql says about the tables:
// its reference and distributed lists, the latter in distribution order.
type placement struct {
	reference, distributed []string
}

// readPlacement parses the two table lists of distribute.sql.
func readPlacement(t *testing.T) placement {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "scripts", "citus", "distribute.sql"))
	if err != nil {
		t.Fatal(err)
	}
	list := func(name string) []string {
		m := regexp.MustCompile(`(?s)\b` + name + `\s+text\[\]\s*:=\s*ARRAY\[(.*?)\]`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("distribute.sql declares no %s text[] := ARRAY[…] list", name)
		}
		var out []string
		for _, item := range strings.Split(string(m[1]), ",") {
			out = append(out, strings.Trim(strings.TrimSpace(item), "'"))
		}
		return out
	}
	return placement{reference: list("reference"), distributed: list("distributed")}
}

// schemaTables lists the migrated schema's tables, without bun's own.
func schemaTables(t *testing.T, super *sql.DB) []string {
	t.Helper()
	rows, err := super.Query(`SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname NOT LIKE 'bun\_%' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestDistributeListsEveryTable holds scripts/citus/distribute.sql to the
// migrations on plain PostgreSQL: every table of the schema is in exactly
// one of its lists, every listed table exists, distributed tables have
// tenant_id, and each distributed table comes after the tables its foreign
// keys point at (Citus needs the parent distributed first).
func TestDistributeListsEveryTable(t *testing.T) {
	super := apitest.DB(t).SQL(t)
	p := readPlacement(t)
	listed := map[string]string{}
	for kind, tables := range map[string][]string{"reference": p.reference, "distributed": p.distributed} {
		for _, tb := range tables {
			if other, dup := listed[tb]; dup {
				t.Errorf("distribute.sql lists %s twice (%s and %s)", tb, other, kind)
			}
			listed[tb] = kind
		}
	}
	tables := schemaTables(t, super)
	if len(tables) < 10 {
		t.Fatalf("saw %d tables, want the whole schema", len(tables))
	}
	for _, tb := range tables {
		if listed[tb] == "" {
			t.Errorf("table %s is in neither list of scripts/citus/distribute.sql: add it (distributed by tenant_id, or reference)", tb)
		}
	}
	for tb := range listed {
		if !slices.Contains(tables, tb) {
			t.Errorf("distribute.sql lists %s, which the migrations do not create", tb)
		}
	}
	for i, tb := range p.distributed {
		var hasTenant bool
		if err := super.QueryRow(`SELECT EXISTS (SELECT FROM information_schema.columns
			WHERE table_schema = 'public' AND table_name = $1 AND column_name = 'tenant_id')`, tb).Scan(&hasTenant); err != nil {
			t.Fatal(err)
		}
		if !hasTenant {
			t.Errorf("distributed table %s has no tenant_id", tb)
		}
		rows, err := super.Query(`SELECT DISTINCT confrelid::regclass::text FROM pg_constraint
			WHERE contype = 'f' AND conrelid = $1::regclass AND confrelid <> conrelid`, tb)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var parent string
			_ = rows.Scan(&parent)
			if j := slices.Index(p.distributed, parent); listed[parent] == "distributed" && j > i {
				t.Errorf("distribute.sql distributes %s before %s, whose foreign key points at it: parents first", tb, parent)
			}
		}
		rows.Close()
	}
}

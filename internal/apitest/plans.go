package apitest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"seatgraph/internal/store"
)

// Statements is a query hook that keeps the statements a pool sends, as
// bun sees them (value markers kept, for Database.Reads).
type Statements struct {
	mu   sync.Mutex
	sent []string
}

// BeforeQuery does nothing.
func (s *Statements) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

// AfterQuery keeps the statement.
func (s *Statements) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	s.mu.Lock()
	s.sent = append(s.sent, e.Query)
	s.mu.Unlock()
}

// Matching is the statements sent so far that contain every one of parts.
func (s *Statements) Matching(parts ...string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, q := range s.sent {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(store.Text(q), p)
		}
		if all {
			out = append(out, q)
		}
	}
	return out
}

// Reads is what one statement costs PostgreSQL: the pages (shared
// buffers, hit or read) its execution touched.
type Reads struct {
	// Generic is the cost of the plan the server's pool runs: the
	// statement prepared and planned once for any values
	// (store.GenericPlans).
	Generic int64
	// Custom is the cost of a plan made for the statement's values.
	Custom int64
	// Plan is the generic plan, as EXPLAIN prints it.
	Plan string
}

// Reads executes query (a statement a pool sent, markers and all) for
// tenant as the application role, twice, in a transaction rolled back
// afterwards: with the generic plan of the statement prepared, as the
// server's pool runs it, and with a plan for its values. Not on Citus,
// where the plans that read are the workers'.
func (d *Database) Reads(t testing.TB, tenant, query string) Reads {
	t.Helper()
	if d.Citus() {
		t.Skip("the coordinator's plans read nothing themselves")
	}
	ctx := context.Background()
	c, err := pgx.Connect(ctx, d.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	prepare, execute := store.Prepared("reads", query)
	if _, err := tx.Exec(ctx, "SELECT set_config('app.tenant_id', $1, true)", tenant); err != nil {
		t.Fatal(err)
	}
	// Prepared as pgx prepares every statement of the pool (parameter
	// types inferred by PostgreSQL), and executed with EXPLAIN EXECUTE:
	// an EXPLAIN prepared itself would plan its query for the values.
	if _, err := tx.Exec(ctx, prepare); err != nil {
		t.Fatalf("prepare: %v\n%s", err, prepare)
	}
	execute = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + execute
	var r Reads
	for _, mode := range []string{store.GenericPlans, "force_custom_plan"} {
		if _, err := tx.Exec(ctx, "SET LOCAL plan_cache_mode = "+mode); err != nil {
			t.Fatal(err)
		}
		var raw []byte
		if err := tx.QueryRow(ctx, execute).Scan(&raw); err != nil {
			t.Fatalf("%s: %v\n%s", mode, err, prepare)
		}
		var plans []struct {
			Plan struct {
				Hit  int64 `json:"Shared Hit Blocks"`
				Read int64 `json:"Shared Read Blocks"`
			} `json:"Plan"`
		}
		if err := json.Unmarshal(raw, &plans); err != nil || len(plans) != 1 {
			t.Fatalf("EXPLAIN gave %s: %v", raw, err)
		}
		n := plans[0].Plan.Hit + plans[0].Plan.Read
		if mode == store.GenericPlans {
			r.Generic, r.Plan = n, explainText(t, raw)
		} else {
			r.Custom = n
		}
	}
	return r
}

// explainText is a JSON plan's node lines, for a failure message.
func explainText(t testing.TB, raw []byte) string {
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal(raw, &plans); err != nil || len(plans) != 1 {
		return string(raw)
	}
	var b strings.Builder
	var walk func(n planNode, depth int)
	walk = func(n planNode, depth int) {
		fmt.Fprintf(&b, "%s%s %s %s (%d pages) %s %s\n", strings.Repeat("  ", depth), n.Type, n.Index, n.Relation,
			n.Hit+n.Read, n.Cond, n.Filter)
		for _, c := range n.Plans {
			walk(c, depth+1)
		}
	}
	walk(plans[0].Plan, 0)
	return b.String()
}

type planNode struct {
	Type     string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Index    string     `json:"Index Name"`
	Cond     string     `json:"Index Cond"`
	Filter   string     `json:"Filter"`
	Hit      int64      `json:"Shared Hit Blocks"`
	Read     int64      `json:"Shared Read Blocks"`
	Plans    []planNode `json:"Plans"`
}

// Planned is how many times the pool db planned query (a statement it
// sent, markers and all) for its values (custom) and ran its plan for any
// values (generic), on the connections it still has open: read from
// pg_prepared_statements, which is per connection, so meant for a pool of
// one connection.
func Planned(t testing.TB, db *store.DB, query string) (custom, generic int64) {
	t.Helper()
	err := db.Bun().QueryRowContext(context.Background(),
		"SELECT coalesce(sum(custom_plans), 0), coalesce(sum(generic_plans), 0) FROM pg_prepared_statements WHERE statement = ?",
		store.Text(query)).Scan(&custom, &generic)
	if err != nil {
		t.Fatal(err)
	}
	return custom, generic
}

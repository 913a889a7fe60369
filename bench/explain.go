package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/uptrace/bun"

	"seatgraph/internal/gid"
	"seatgraph/internal/store"
)

// bigTable is the size from which a sequential scan fails the check: a
// tenant's thousand licenses may be read whole, its people, groups and
// assignments may not.
const bigTable = 10_000

// pageRows is the most rows a sort may take: one page and its lookahead.
const pageRows = 101

// capture collects the SELECT statements the server sends.
type capture struct {
	mu      sync.Mutex
	queries []string
}

func (c *capture) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (c *capture) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	q := strings.TrimSpace(e.Query) // markers kept: explain needs the values apart
	if strings.HasPrefix(q, "SELECT") || strings.HasPrefix(q, "WITH") {
		c.mu.Lock()
		c.queries = append(c.queries, q)
		c.mu.Unlock()
	}
}

func (c *capture) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queries
	c.queries = nil
	return q
}

// listQueries is every list query of the API (each order, each filter)
// on the 1M tenant, with its variables.
func listQueries(x *ids, group, viaGroup, asg string) map[string]string {
	big := gid.License.Format(x.big)
	person := gid.Person.Format(x.people[4242])
	before := x.unusedDays.Format(time.RFC3339)
	q := map[string]string{}
	for _, o := range []string{"NAME", "CREATED", "EXPIRES"} {
		for _, d := range []string{"ASC", "DESC"} {
			q["licenses order "+o+" "+d] = fmt.Sprintf(`{ licenses(first: 20, orderBy: {field: %s, direction: %s}) { totalCount nodes { id } } }`, o, d)
		}
	}
	for name, f := range map[string]string{"search": `search: "License 0042"`, "vendor": `vendor: "vendor 7"`, "programKey": `programKey: "KEY-42"`,
		"expiresBefore": `expiresBefore: "` + before + `"`, "expiresAfter": `expiresAfter: "` + before + `"`, "hasAvailableSeats": `hasAvailableSeats: true`} {
		q["licenses filter "+name] = `{ licenses(first: 20, filter: {` + f + `}) { totalCount nodes { id } } }`
	}
	orders := []string{"CREATED", "UPDATED", "ASSIGNED", "EXPIRES", "LAST_USED"}
	for _, o := range orders {
		q["assignments order "+o] = `{ assignments(first: 50, orderBy: {field: ` + o + `, direction: DESC}) { nodes { id } } }`
		q["license.assignments order "+o] = `{ license(id: "` + big + `") { assignments(first: 50, orderBy: {field: ` + o + `}) { totalCount nodes { id } } } }`
		q["person.assignments order "+o] = `{ person(id: "` + person + `") { assignments(first: 50, orderBy: {field: ` + o + `}) { totalCount nodes { id } } } }`
		q["group.assignments order "+o] = `{ group(id: "` + group + `") { assignments(first: 50, orderBy: {field: ` + o + `}) { totalCount nodes { id } } } }`
		q["assignments licenseIds order "+o] = `{ assignments(first: 50, orderBy: {field: ` + o + `}, filter: {licenseIds: ["` + big + `"]}) { nodes { id } } }`
	}
	for name, f := range map[string]string{
		"licenseIds": `licenseIds: ["` + big + `"]`, "assigneeIds": `assigneeIds: ["` + person + `"]`, "assigneeType": `assigneeType: GROUP`,
		"email": `email: "person4242@bench.example"`, "status": `status: [WAITLISTED]`, "active": `active: false`,
		"fulfilled": `fulfilled: false`, "direct": `direct: false`, "viaGroupId": `viaGroupId: "` + viaGroup + `"`,
		"assignedAfter":  `assignedAfter: "` + time.Now().Add(-100*24*time.Hour).UTC().Format(time.RFC3339) + `"`,
		"assignedBefore": `assignedBefore: "` + time.Now().Add(-349*24*time.Hour).UTC().Format(time.RFC3339) + `"`,
		"expiresAfter":   `expiresAfter: "` + time.Now().Add(390*24*time.Hour).UTC().Format(time.RFC3339) + `"`,
		"expiresBefore":  `expiresBefore: "` + time.Now().Add(2*24*time.Hour).UTC().Format(time.RFC3339) + `"`,
		"lastUsedBefore": `lastUsedBefore: "` + before + `"`, "neverUsed": `neverUsed: true`,
		"D": `licenseIds: ["` + big + `"], status: [ACTIVE], lastUsedBefore: "` + before + `"`,
	} {
		order := ""
		if name == "D" {
			order = `, orderBy: {field: LAST_USED}`
		}
		q["assignments filter "+name] = `{ assignments(first: 50` + order + `, filter: {` + f + `}) { nodes { id } } }`
	}
	for _, o := range []string{"NAME", "EMAIL", "CREATED"} {
		q["people order "+o] = `{ people(first: 20, orderBy: {field: ` + o + `}) { totalCount nodes { id } } }`
		q["group.members order "+o] = `{ group(id: "` + group + `") { members(first: 20, orderBy: {field: ` + o + `}) { totalCount nodes { id } } } }`
	}
	for name, f := range map[string]string{"search": `search: "person4242@"`, "email": `email: "PERSON4242@bench.example"`, "groupId": `groupId: "` + group + `"`} {
		q["people filter "+name] = `{ people(first: 20, filter: {` + f + `}) { totalCount nodes { id } } }`
	}
	for _, o := range []string{"NAME", "CREATED"} {
		q["groups order "+o] = `{ groups(first: 20, orderBy: {field: ` + o + `}) { totalCount nodes { id } } }`
		q["person.groups order "+o] = `{ person(id: "` + person + `") { groups(first: 20, orderBy: {field: ` + o + `}) { totalCount nodes { id } } } }`
	}
	q["groups filter search"] = `{ groups(first: 20, filter: {search: "Group 0042"}) { totalCount nodes { id } } }`
	q["person.entitlements"] = `{ person(id: "` + person + `") { entitlements { license { name } grants { id } } } }`
	q["assignment.history"] = `{ assignment(id: "` + asg + `") { history(first: 20) { totalCount nodes { id } } } }`
	// The economics reports (names starting "report "): ranges of days and
	// of last use, aggregated, so a sort of more than a page is theirs to
	// make; they are checked for sequential scans and for a generic plan
	// slower than a custom one.
	from := time.Now().Add(-90 * 24 * time.Hour).UTC().Format(time.RFC3339)
	q["report license.usage"] = `{ license(id: "` + big + `") { usage(inactiveDays: 30) { holders active inactive neverUsed } } }`
	q["report license.utilization"] = `{ license(id: "` + big + `") { utilization(from: "` + from + `", interval: WEEK) { start used } } }`
	q["report utilization"] = `{ utilization(from: "` + from + `", interval: MONTH) { start used } }`
	q["report spendSummary"] = `{ spendSummary(inactiveDays: 30) { inactiveDays byVendor { vendor } } }`
	q["report renewals"] = `{ renewals(within: "P90D") { renewals { suggestedSeats } overAllocated { suggestedSeats } } }`
	return q
}

// explainAll sends every list query of the API to the server, EXPLAINs
// each SELECT it sends, and fails on a sequential scan of a big table or
// a sort of more rows than a page.
func explainAll(ctx context.Context, url string, c *capture, u urls, tenant string) error {
	pool, err := directPool(ctx, u.app, tenant, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	x, err := loadIDs(ctx, pool, true)
	if err != nil {
		return err
	}
	var g, vg [16]byte
	if err := pool.QueryRow(ctx, `SELECT group_id, (SELECT via_group_id FROM assignments WHERE via_group_id IS NOT NULL LIMIT 1)
		FROM assignments WHERE group_id IS NOT NULL LIMIT 1`).Scan(&g, &vg); err != nil {
		return err
	}
	group, viaGroup, asg := gid.Group.Format(g), gid.Group.Format(vg), gid.Assignment.Format(x.usage[0])
	cl := newClient(url, mint(tenant))
	failed := 0
	queries := listQueries(x, group, viaGroup, asg)
	names := make([]string, 0, len(queries))
	for n := range queries {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		c.take()
		if err := cl.post(ctx, queries[name], nil); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for _, q := range c.take() {
			problems, err := explain(ctx, pool, q, strings.HasPrefix(name, "report "))
			if err != nil {
				return fmt.Errorf("%s: explain: %w\n%s", name, err, store.Literal(q))
			}
			if len(problems) > 0 {
				failed++
				fmt.Printf("FAIL %-45s %s\n     %.400s\n", name, strings.Join(problems, "; "), store.Literal(q))
			}
		}
	}
	log.Printf("%d list queries explained, %d statements failed", len(names), failed)
	if failed > 0 {
		return fmt.Errorf("%d statements scan or sort too much", failed)
	}
	return nil
}

type planNode struct {
	NodeType string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Rows     float64    `json:"Plan Rows"`
	Removed  float64    `json:"Rows Removed by Filter"`
	Loops    float64    `json:"Actual Loops"`
	Plans    []planNode `json:"Plans"`
}

// warnRemoved is how many rows a scan may read and throw away before the
// check warns (it does not fail: a selective filter over an ordered index
// is a fine plan for common values, a slow one for rare values).
const warnRemoved = 20_000

// explain returns what is wrong with q's plan: the plan the server runs,
// a generic plan of the statement prepared (store.GenericPlans), with the
// values of the request; a custom plan for those values is run beside it
// (both with the server's settings, on a warm cache), and a generic plan
// much slower than it is reported. The bench database's two tenants hide
// one weakness of generic plans: each is made for an average tenant, and
// with thousands of small tenants that is not the big one's plan.
// Sequential scans are switched off for the plan checked: the bench
// tenant holds nearly every row of the bench database, so PostgreSQL
// rightly reads a whole table for a tenant-wide count; the question is
// whether an index can serve the statement, as it must when tenants are
// many. A sequential scan in the plan then means that none can.
func explain(ctx context.Context, pool *pgxpool.Pool, q string, report bool) ([]string, error) {
	c, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Release()
	prepare, execute := store.Prepared("bench_check", q)
	if _, err := c.Exec(ctx, "SET enable_seqscan = off"); err != nil {
		return nil, err
	}
	defer c.Exec(ctx, "RESET enable_seqscan; RESET plan_cache_mode; DEALLOCATE bench_check") //nolint:errcheck
	if _, err := c.Exec(ctx, prepare); err != nil {
		return nil, err
	}
	run := func(mode string) (planNode, float64, error) {
		var raw []byte
		if _, err := c.Exec(ctx, "SET plan_cache_mode = "+mode); err != nil {
			return planNode{}, 0, err
		}
		if err := c.QueryRow(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+execute).Scan(&raw); err != nil {
			return planNode{}, 0, err
		}
		var plans []struct {
			Plan planNode `json:"Plan"`
			Took float64  `json:"Execution Time"`
		}
		if err := json.Unmarshal(raw, &plans); err != nil || len(plans) != 1 {
			return planNode{}, 0, fmt.Errorf("EXPLAIN gave %d plans: %v", len(plans), err)
		}
		return plans[0].Plan, plans[0].Took, nil
	}
	plan, _, err := run(store.GenericPlans)
	if err != nil {
		return nil, err
	}
	// The comparison is of the plans the server runs: sequential scans
	// allowed again, as in the server's sessions; each plan is run twice
	// and timed the second time, so that neither pays for reading the
	// statement's pages into the cache (the first run above read them for
	// a plan that may not be either of these).
	if _, err := c.Exec(ctx, "RESET enable_seqscan"); err != nil {
		return nil, err
	}
	took := map[string]float64{}
	for _, mode := range []string{store.GenericPlans, "force_custom_plan", store.GenericPlans, "force_custom_plan"} {
		if _, took[mode], err = run(mode); err != nil {
			return nil, err
		}
	}
	if generic, custom := took[store.GenericPlans], took["force_custom_plan"]; generic > 1 && generic > 2*custom {
		fmt.Printf("warn generic plan %.1f ms, custom plan %.1f ms: %.200s\n", generic, custom, store.Literal(q))
	}
	var problems []string
	var walk func(n planNode) error
	walk = func(n planNode) error {
		switch n.NodeType {
		case "Seq Scan":
			var rows float64
			if err := pool.QueryRow(ctx, "SELECT reltuples FROM pg_class WHERE relname = $1", n.Relation).Scan(&rows); err != nil {
				return err
			}
			if rows > bigTable {
				problems = append(problems, fmt.Sprintf("sequential scan of %s (%.0f rows)", n.Relation, rows))
			}
		case "Sort", "Incremental Sort":
			if n.Rows > pageRows && !report {
				problems = append(problems, fmt.Sprintf("sort of %.0f rows", n.Rows))
			}
		}
		if removed := n.Removed * max(n.Loops, 1); removed > warnRemoved {
			fmt.Printf("warn %s on %s read and dropped %.0f rows: %.200s\n", n.NodeType, n.Relation, removed, store.Literal(q))
		}
		for _, c := range n.Plans {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(plan); err != nil {
		return nil, err
	}
	return problems, nil
}

package limits_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"seatgraph/graph"
	"seatgraph/internal/codes"
	"seatgraph/internal/limits"
)

var schema = graph.NewExecutableSchema(graph.Config{}).Schema()

func measure(t *testing.T, query string, vars map[string]any, l limits.Limits) (limits.Cost, string) {
	t.Helper()
	doc, errs := gqlparser.LoadQueryWithRules(schema, query, rules.NewDefaultRules())
	if errs != nil {
		t.Fatalf("invalid query: %v", errs)
	}
	c, err := limits.Check(schema, doc, doc.Operations[0], vars, l)
	if err != nil {
		return c, err.Extensions["code"].(string) + ": " + err.Message
	}
	return c, ""
}

// TestCost checks how operations are measured: each object once per item
// of the lists around it, connections sized by first/last (20 without),
// lists by their list argument; scalars free; fragments like inline.
func TestCost(t *testing.T) {
	for _, tc := range []struct {
		name  string
		query string
		vars  map[string]any
		want  limits.Cost
	}{
		{"scalar on an object", `{ viewer { tenantId subject } }`, nil, limits.Cost{Depth: 2, Complexity: 1}},
		{"connection by first", `{ licenses(first: 10) { totalCount nodes { id name } } }`, nil,
			limits.Cost{Depth: 3, Complexity: 1 + 10}},
		{"connection by last", `{ licenses(last: 7) { edges { cursor node { id } } } }`, nil,
			limits.Cost{Depth: 4, Complexity: 1 + 7*(1+1)}},
		{"connection by default page", `{ people { nodes { id } } }`, nil,
			limits.Cost{Depth: 3, Complexity: 1 + 20}},
		{"first from a variable", `query($n: Int) { groups(first: $n) { nodes { id } } }`, map[string]any{"n": int64(3)},
			limits.Cost{Depth: 3, Complexity: 1 + 3}},
		{"nested connections multiply", `{ licenses(first: 10) { nodes { id
			assignments(first: 5) { nodes { id license { name } } } } } }`, nil,
			limits.Cost{Depth: 6, Complexity: 1 + 10*(1+1+5*(1+1))}},
		{"list argument sizes the list", `{ nodes(ids: ["lic_01h455vb4pex5vsknk084sn02q", "per_01h455vb4pex5vsknk084sn02q"]) { id } }`, nil,
			limits.Cost{Depth: 2, Complexity: 2}},
		{"fragments count like inline selections", `{ licenses(first: 10) { ...page } } fragment page on LicenseConnection { nodes { ...lic } } fragment lic on License { id assignments(first: 5) { nodes { id license { name } } } }`, nil,
			limits.Cost{Depth: 6, Complexity: 1 + 10*(1+1+5*(1+1))}},
		{"aliases", `{ a: viewer { tenantId } b: viewer { t: tenantId } viewer { tenantId } }`, nil,
			limits.Cost{Depth: 2, Complexity: 3, Aliases: 3}},
		{"introspection is free", `{ __schema { types { name fields { name type { name ofType { name ofType { name } } } } } } }`, nil,
			limits.Cost{Depth: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := measure(t, tc.query, tc.vars, limits.Limits{})
			if err != "" || got != tc.want {
				t.Errorf("got %+v %s, want %+v", got, err, tc.want)
			}
		})
	}
}

// TestRefusals checks that each limit refuses with its code and a message
// that says what to change.
func TestRefusals(t *testing.T) {
	deep := strings.Repeat("groups { nodes { members { nodes { ", 4) + "id" + strings.Repeat(" } } } }", 4)
	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		limits      limits.Limits
		want        string
	}{
		{"first over the page limit", `{ licenses(first: 100000) { nodes { id } } }`, nil, limits.Limits{},
			"BAD_USER_INPUT: invalid pagination arguments: first on licenses must be between 0 and 100, got 100000"},
		{"last below zero from a variable", `query($n: Int) { people(last: $n) { nodes { id } } }`, map[string]any{"n": int64(-1)},
			limits.Limits{}, "BAD_USER_INPUT: invalid pagination arguments: last on people must be between 0 and 100, got -1"},
		{"too deep", `{ people(first: 1) { nodes { ` + deep + ` } } }`, nil, limits.Limits{MaxDepth: 10},
			"GRAPHQL_VALIDATION_FAILED: the operation nests 19 levels deep, more than the limit of 10"},
		{"too many aliases", `{ a: viewer { tenantId } b: viewer { tenantId } c: viewer { tenantId } }`, nil,
			limits.Limits{MaxAliases: 2}, "GRAPHQL_VALIDATION_FAILED: the operation uses 3 aliases, more than the limit of 2"},
		{"too complex", `{ licenses(first: 100) { nodes { assignments(first: 100) { nodes { license { name } } } } } }`, nil,
			limits.Limits{MaxComplexity: 10000}, "COMPLEXITY_LIMIT_EXCEEDED: the operation has complexity 20201"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := measure(t, tc.query, tc.vars, tc.limits)
			if !strings.HasPrefix(err, tc.want) {
				t.Errorf("got %q, want %q", err, tc.want)
			}
		})
	}
}

// TestFragmentFanOut checks that fragments spread many times are measured
// once each: 2^40 paths cost no more time than 40 fragments, and the
// saturated complexity is refused.
func TestFragmentFanOut(t *testing.T) {
	var b strings.Builder
	b.WriteString("query { ...f0 }\n")
	const n = 40
	for i := range n {
		fmt.Fprintf(&b, "fragment f%d on Query { ...f%d viewer { tenantId } ...f%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment f%d on Query { licenses { nodes { id } } }\n", n)
	doc, errs := gqlparser.LoadQueryWithRules(schema, b.String(), rules.NewDefaultRules())
	if errs != nil {
		t.Fatal(errs)
	}
	start := time.Now()
	_, err := limits.Check(schema, doc, doc.Operations[0], nil, limits.Limits{})
	if time.Since(start) > time.Second {
		t.Errorf("measuring took %s", time.Since(start))
	}
	if err == nil || err.Extensions["code"] != codes.ComplexityLimit {
		t.Errorf("got %v, want a complexity refusal", err)
	}
}

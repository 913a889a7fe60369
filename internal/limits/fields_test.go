package limits_test

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"seatgraph/internal/limits"
)

// TestCountFields checks what counts towards the limit on fields under
// one name in one place (before validation, so on documents the
// validator may still refuse), with a limit of 3 and a total of 50.
func TestCountFields(t *testing.T) {
	for _, tc := range []struct {
		name, query string
		refused     string // "" when accepted
	}{
		{"distinct fields", `{ licenses { nodes { id name vendor expiresAt } } }`, ""},
		{"three repeats", `{ licenses { nodes { name name name } } }`, ""},
		{"four repeats", `{ licenses { nodes { name name name name } } }`, "4 fields under one name"},
		{"aliases are other names", `{ a: viewer { subject } b: viewer { subject } c: viewer { subject } d: viewer { subject } }`, ""},
		{"an alias can repeat a name", `{ licenses { nodes { name name name n: id name: vendor } } }`, "4 fields under one name"},
		{"repeats through fragments", `{ licenses { nodes { name ...F ...F } } } fragment F on License { name }`, ""},
		{"more repeats through fragments", `{ licenses { nodes { name ...F ...F ... on License { name } } } } fragment F on License { name }`,
			"4 fields under one name"},
		{"sibling fields of one name merge", `{ licenses { nodes { name } } licenses { nodes { name } } licenses { nodes { name name } } }`,
			"4 fields under one name"},
		{"a fragment cycle", `{ licenses { ...A } } fragment A on LicenseConnection { ...B } fragment B on LicenseConnection { ...A totalCount }`,
			`fragment "A" spreads itself`},
		{"a cycle through a field", `{ viewer { ...A } } fragment A on Viewer { subject { ...A } }`, `fragment "A" spreads itself`},
		{"an unknown fragment", `{ viewer { ...A } }`, `spreads fragment "A", which it does not define`},
		{"an unknown fragment in an unused one", `{ __typename } fragment A on Viewer { ...B }`, `spreads fragment "B"`},
		{"four spreads in one place", `{ viewer { ...A ...B ... on Viewer { ...C ...D } } } fragment A on Viewer { a }
			fragment B on Viewer { b } fragment C on Viewer { c } fragment D on Viewer { d }`, "spreads 4 fragments in one place"},
		{"repeats in an unused fragment", `{ __typename } fragment A on License { name name name name }`, "4 fields under one name"},
		{"a fragment bomb hits the total", `{ viewer { ...A } }
			fragment A on Viewer { ...B ...B } fragment B on Viewer { ...C ...C } fragment C on Viewer { ...D ...D }
			fragment D on Viewer { ...E ...E } fragment E on Viewer { ...G ...G } fragment G on Viewer { subject }`, "more than 50 fields in all"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Input: tc.query})
			if err != nil {
				t.Fatal(err)
			}
			gerr := limits.CountFields(doc, 3, 50)
			switch {
			case tc.refused == "" && gerr != nil:
				t.Errorf("refused: %v", gerr)
			case tc.refused != "" && (gerr == nil || !strings.Contains(gerr.Message, tc.refused) ||
				gerr.Extensions["code"] != "GRAPHQL_VALIDATION_FAILED"):
				t.Errorf("got %v, want a GRAPHQL_VALIDATION_FAILED saying %q", gerr, tc.refused)
			}
		})
	}
}

// repeated is the 27 KB document of the adversarial run: one field
// 9,000 times in one selection set.
var repeated = "{licenses(first:1){nodes{" + strings.Repeat("name ", 9000) + "}}}"

// BenchmarkValidateRepeated is what the document costs the validator
// (gqlparser's rules, as the executor runs them) when nothing refuses it
// first: the work Fields spares.
func BenchmarkValidateRepeated(b *testing.B) {
	for b.Loop() {
		if _, errs := gqlparser.LoadQueryWithRules(schema, repeated, rules.NewDefaultRules()); errs != nil {
			b.Fatal(errs)
		}
	}
}

// BenchmarkRefuseRepeated is what refusing it costs: a parse and a count.
func BenchmarkRefuseRepeated(b *testing.B) {
	for b.Loop() {
		doc, err := parser.ParseQuery(&ast.Source{Input: repeated})
		if err != nil {
			b.Fatal(err)
		}
		if limits.CountFields(doc, 100, 20000) == nil {
			b.Fatal("not refused")
		}
	}
}

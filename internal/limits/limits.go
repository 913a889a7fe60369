// Package limits bounds what one GraphQL operation may ask for: how deep
// it nests, how many aliases it uses, how big its connection pages are and
// how many objects it may return in all (its complexity). The check runs
// after validation and before any resolver, so a refused operation
// executes nothing.
package limits

import (
	"context"
	"encoding/json"
	"math"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"seatgraph/internal/codes"
)

// Limits are the bounds on one operation. Zero fields take Default's.
type Limits struct {
	// MaxDepth is the deepest nesting of fields.
	MaxDepth int
	// MaxAliases is the most aliased fields in one document.
	MaxAliases int
	// MaxComplexity is the most objects an operation may ask for, counting
	// every object-typed field once per item of each list around it, with
	// a connection's list sized by its first or last argument.
	MaxComplexity int
	// PageDefault is the page size of a connection without first or last,
	// also assumed for lists without a size argument; PageMax is the
	// largest first or last accepted.
	PageDefault int
	PageMax     int
}

// Default are the limits used when none are configured.
func Default() Limits {
	return Limits{MaxDepth: 15, MaxAliases: 50, MaxComplexity: 200000, PageDefault: 20, PageMax: 100}
}

func (l Limits) withDefaults() Limits {
	d := Default()
	for _, f := range []struct{ v, d *int }{{&l.MaxDepth, &d.MaxDepth}, {&l.MaxAliases, &d.MaxAliases},
		{&l.MaxComplexity, &d.MaxComplexity}, {&l.PageDefault, &d.PageDefault}, {&l.PageMax, &d.PageMax}} {
		if *f.v <= 0 {
			*f.v = *f.d
		}
	}
	return l
}

// Cost is what an operation asks for.
type Cost struct {
	Depth      int
	Aliases    int
	Complexity int
}

// Extension is the gqlgen handler extension that enforces Limits.
type Extension struct {
	Limits Limits
	schema *ast.Schema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &Extension{}

// ExtensionName names the extension.
func (*Extension) ExtensionName() string { return "Limits" }

// Validate keeps the schema the operations are measured against.
func (e *Extension) Validate(es graphql.ExecutableSchema) error {
	e.schema = es.Schema()
	e.Limits = e.Limits.withDefaults()
	return nil
}

// StatsName is the key of the operation's Cost in its stats
// (opCtx.Stats.GetExtension), for telemetry.
const StatsName = "Limits"

// MutateOperationContext refuses an operation over any limit and keeps
// its cost in the operation's stats.
func (e *Extension) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	cost, err := Check(e.schema, opCtx.Doc, opCtx.Operation, opCtx.Variables, e.Limits)
	opCtx.Stats.SetExtension(StatsName, cost)
	return err
}

// Check measures op (of doc, with variables vars) and returns an error
// with an extensions.code for the first limit it breaks.
func Check(schema *ast.Schema, doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any, l Limits) (Cost, *gqlerror.Error) {
	l = l.withDefaults()
	w := &walker{schema: schema, vars: vars, limits: l, fragments: map[fragKey]measure{}}
	m := w.selectionSet(op.SelectionSet, 0)
	c := Cost{Depth: m.depth, Complexity: m.cost, Aliases: aliases(op.SelectionSet)}
	for _, f := range doc.Fragments {
		c.Aliases += aliases(f.SelectionSet)
	}
	switch {
	case w.err != nil:
		return c, w.err
	case c.Aliases > l.MaxAliases:
		return c, coded(codes.ValidationFailed, "the operation uses %d aliases, more than the limit of %d", c.Aliases, l.MaxAliases)
	case c.Depth > l.MaxDepth:
		return c, coded(codes.ValidationFailed, "the operation nests %d levels deep, more than the limit of %d", c.Depth, l.MaxDepth)
	case c.Complexity > l.MaxComplexity:
		return c, coded(codes.ComplexityLimit, "the operation has complexity %d, more than the limit of %d "+
			"(each object counts once per item of the lists around it; ask for smaller pages)", c.Complexity, l.MaxComplexity)
	}
	return c, nil
}

func coded(code, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, code)
	return err
}

// aliases counts the aliased fields written in set, without following
// fragment spreads (each fragment is counted once, by Check).
func aliases(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Alias != "" && s.Alias != s.Name {
				n++
			}
			n += aliases(s.SelectionSet)
		case *ast.InlineFragment:
			n += aliases(s.SelectionSet)
		}
	}
	return n
}

type measure struct{ depth, cost int }

type fragKey struct {
	name string
	page int
}

// walker measures depth and complexity in one pass. A fragment's measure
// depends only on the page size around it, so each is measured once per
// page size: fragments spread many times cannot make the walk explode.
type walker struct {
	schema    *ast.Schema
	vars      map[string]any
	limits    Limits
	fragments map[fragKey]measure
	err       *gqlerror.Error
}

// selectionSet measures set; page is the page size of the connection set
// belongs to (0 outside a connection).
func (w *walker) selectionSet(set ast.SelectionSet, page int) measure {
	var m measure
	for _, sel := range set {
		var sm measure
		switch s := sel.(type) {
		case *ast.Field:
			sm = w.field(s, page)
		case *ast.InlineFragment:
			sm = w.selectionSet(s.SelectionSet, page)
		case *ast.FragmentSpread:
			key := fragKey{s.Name, page}
			var ok bool
			if sm, ok = w.fragments[key]; !ok {
				w.fragments[key] = measure{} // a cycle (refused by validation) ends here
				if s.Definition != nil {
					sm = w.selectionSet(s.Definition.SelectionSet, page)
				}
				w.fragments[key] = sm
			}
		}
		m.depth = max(m.depth, sm.depth)
		m.cost = add(m.cost, sm.cost)
	}
	return m
}

func (w *walker) field(f *ast.Field, page int) measure {
	if strings.HasPrefix(f.Name, "__") || f.Definition == nil {
		// __typename and introspection: introspection has its own depth
		// rule in the validator and is off in production.
		return measure{depth: 1}
	}
	childPage := 0
	if isConnection(f.Definition) {
		childPage = w.pageSize(f)
	}
	child := w.selectionSet(f.SelectionSet, childPage)
	m := measure{depth: 1 + child.depth}
	if t := w.schema.Types[f.Definition.Type.Name()]; t == nil || t.IsLeafType() {
		return m // scalars and enums come with their object
	}
	m.cost = add(1, child.cost)
	if f.Definition.Type.Elem != nil {
		m.cost = mul(w.listSize(f, page), m.cost)
	}
	return m
}

// isConnection reports whether def is a Relay connection field.
func isConnection(def *ast.FieldDefinition) bool {
	return strings.HasSuffix(def.Type.Name(), "Connection") &&
		def.Arguments.ForName("first") != nil && def.Arguments.ForName("last") != nil
}

// pageSize is the page a connection field asks for; a size out of range
// is refused here, before anything runs.
func (w *walker) pageSize(f *ast.Field) int {
	args := f.ArgumentMap(w.vars)
	for _, name := range []string{"first", "last"} {
		n, ok := asInt(args[name])
		if !ok {
			continue
		}
		if n < 0 || n > int64(w.limits.PageMax) {
			if w.err == nil {
				w.err = coded(codes.BadUserInput, "invalid pagination arguments: %s on %s must be between 0 and %d, got %d",
					name, f.Alias, w.limits.PageMax, n)
			}
			return w.limits.PageMax
		}
		return int(n)
	}
	return w.limits.PageDefault
}

// listSize is how many items a list field may return: the length of its
// longest list argument (nodes(ids:), _entities(representations:)), else
// the page size of the connection it is in, else the default page size.
func (w *walker) listSize(f *ast.Field, page int) int {
	n, found := 0, false
	for _, v := range f.ArgumentMap(w.vars) {
		if l, ok := v.([]any); ok {
			n, found = max(n, len(l)), true
		}
	}
	switch {
	case found:
		return n
	case page > 0:
		return page
	}
	return w.limits.PageDefault
}

func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		if n > math.MaxInt64 || n < math.MinInt64 {
			return math.MaxInt64, true
		}
		return int64(n), true
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		return math.MaxInt64, true
	}
	return 0, false
}

// add and mul saturate instead of overflowing, so no operation can wrap
// its cost around to a small number.
func add(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

func mul(a, b int) int {
	if a != 0 && b > math.MaxInt/a {
		return math.MaxInt
	}
	return a * b
}

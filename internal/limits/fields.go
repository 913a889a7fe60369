package limits

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"seatgraph/internal/codes"
)

// Fields is the gqlgen handler extension that refuses, before the
// document is validated, a document repeating one field too often in one
// place of the response. The validator checks that the fields answering
// under one name in one place agree with each other pairwise, so its work
// grows with the square of their number: 9,000 repeated fields took
// seconds of CPU to validate, and validation cannot be interrupted.
// Counting them takes one linear pass over the parsed document.
type Fields struct {
	// Max is the most fields that may answer under one name in one place
	// of the response (default 100): a field written again, brought again
	// by a fragment, or under sibling fields of the same name (whose
	// selections merge) counts each time.
	Max int
	// Total is the most fields the whole document may ask for, counting
	// a fragment again wherever it is spread (default 20000).
	Total int
	// TokenLimit is the parser's token limit (default 10000).
	TokenLimit int
	// Validated is the executor's cache of validated documents: a
	// document found there was measured when it was first validated.
	Validated graphql.Cache[*ast.QueryDocument]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = &Fields{}

// ExtensionName names the extension.
func (*Fields) ExtensionName() string { return "FieldCount" }

// Validate sets the defaults.
func (f *Fields) Validate(graphql.ExecutableSchema) error {
	if f.Max <= 0 {
		f.Max = 100
	}
	if f.Total <= 0 {
		f.Total = 20000
	}
	if f.TokenLimit <= 0 {
		f.TokenLimit = 10000
	}
	return nil
}

// MutateOperationParameters refuses a document over either limit; it runs
// before gqlgen parses and validates the document.
func (f *Fields) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if f.Validated != nil {
		if _, ok := f.Validated.Get(ctx, p.Query); ok {
			return nil
		}
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, f.TokenLimit)
	if err != nil {
		return nil // the executor's own parse reports it
	}
	return CountFields(doc, f.Max, f.Total)
}

// CountFields returns an error when doc asks for more than max fields
// under one name in one place of the response, or more than total in all.
// Fragment definitions are measured too, used or not (the validator checks
// every one), under the same total. Before counting it refuses what would
// make the validator's work grow without a field being repeated: a spread
// of a fragment the document does not define (the validator compares each
// with every other), a fragment spreading itself, and more than max
// spreads in one selection set (compared pairwise). A spread counts
// toward the total like a field.
func CountFields(doc *ast.QueryDocument, max, total int) *gqlerror.Error {
	if err := checkSpreads(doc, max); err != nil {
		return err
	}
	c := &fieldCounter{doc: doc, max: max, left: total}
	sets := make([]ast.SelectionSet, 0, len(doc.Operations)+len(doc.Fragments))
	for _, op := range doc.Operations {
		sets = append(sets, op.SelectionSet)
	}
	for _, def := range doc.Fragments {
		sets = append(sets, def.SelectionSet)
	}
	for _, set := range sets {
		if c.place([]ast.SelectionSet{set}) {
			continue
		}
		if c.left < 0 {
			return coded(codes.ValidationFailed, "the document asks for more than %d fields in all "+
				"(a fragment counts wherever it is spread, and once where it is defined)", total)
		}
		return coded(codes.ValidationFailed, "the operation asks for %d fields under one name in one place, more than "+
			"the limit of %d (a field repeated, brought again by fragments, or under sibling fields of the same name counts each time)",
			c.over, max)
	}
	return nil
}

// checkSpreads refuses a spread of an undefined fragment, more than max
// spreads in one selection set (inline fragments included), and a
// fragment cycle, in one linear pass over the document.
func checkSpreads(doc *ast.QueryDocument, max int) *gqlerror.Error {
	spreads := map[string][]string{} // fragment → the fragments it spreads
	var walk func(set ast.SelectionSet, into *[]string) *gqlerror.Error
	// direct counts the spreads of one selection set, through its inline
	// fragments, whose selections merge into it.
	var direct func(set ast.SelectionSet) int
	direct = func(set ast.SelectionSet) int {
		n := 0
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.FragmentSpread:
				n++
			case *ast.InlineFragment:
				n += direct(s.SelectionSet)
			}
		}
		return n
	}
	walk = func(set ast.SelectionSet, into *[]string) *gqlerror.Error {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if err := walk(s.SelectionSet, into); err != nil {
					return err
				}
			case *ast.InlineFragment:
				if err := walk(s.SelectionSet, into); err != nil {
					return err
				}
			case *ast.FragmentSpread:
				if doc.Fragments.ForName(s.Name) == nil {
					return coded(codes.ValidationFailed, "the document spreads fragment %q, which it does not define", s.Name)
				}
				if into != nil {
					*into = append(*into, s.Name)
				}
			}
		}
		if n := direct(set); n > max {
			return coded(codes.ValidationFailed, "the document spreads %d fragments in one place, more than the limit of %d", n, max)
		}
		return nil
	}
	for _, op := range doc.Operations {
		if err := walk(op.SelectionSet, nil); err != nil {
			return err
		}
	}
	for _, def := range doc.Fragments {
		var names []string
		if err := walk(def.SelectionSet, &names); err != nil {
			return err
		}
		spreads[def.Name] = append(spreads[def.Name], names...)
	}
	// Depth-first search: a fragment met again while on the path is a cycle.
	const (
		onPath = 1
		done   = 2
	)
	state := map[string]int{}
	var visit func(name string, path []string) *gqlerror.Error
	visit = func(name string, path []string) *gqlerror.Error {
		switch state[name] {
		case onPath:
			return coded(codes.ValidationFailed, "fragment %q spreads itself (through %s)", name, strings.Join(path, ", "))
		case done:
			return nil
		}
		state[name] = onPath
		for _, next := range spreads[name] {
			if err := visit(next, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = done
		return nil
	}
	for _, def := range doc.Fragments {
		if err := visit(def.Name, nil); err != nil {
			return err
		}
	}
	return nil
}

type fieldCounter struct {
	doc  *ast.QueryDocument
	max  int
	left int // visits left before the document counts as too large
	over int // the count over max
}

// place counts the fields answering under each name in one place of the
// response: those of sets, which merge there. It reports false when a
// limit is broken.
func (c *fieldCounter) place(sets []ast.SelectionSet) bool {
	var names []string
	children := map[string][]ast.SelectionSet{}
	count := map[string]int{}
	spreading := map[string]bool{}
	var collect func(ast.SelectionSet) bool
	collect = func(set ast.SelectionSet) bool {
		for _, sel := range set {
			if c.left--; c.left < 0 {
				return false
			}
			switch s := sel.(type) {
			case *ast.Field:
				name := s.Alias
				if name == "" {
					name = s.Name
				}
				if count[name]++; count[name] > c.max {
					c.over = count[name]
				}
				if len(s.SelectionSet) > 0 {
					if _, ok := children[name]; !ok {
						names = append(names, name)
					}
					children[name] = append(children[name], s.SelectionSet)
				}
			case *ast.InlineFragment:
				if !collect(s.SelectionSet) {
					return false
				}
			case *ast.FragmentSpread:
				// checkSpreads refused undefined fragments and cycles;
				// this only keeps the walk finite.
				def := c.doc.Fragments.ForName(s.Name)
				if def == nil || spreading[s.Name] {
					continue
				}
				spreading[s.Name] = true
				ok := collect(def.SelectionSet)
				delete(spreading, s.Name)
				if !ok {
					return false
				}
			}
		}
		return true
	}
	for _, set := range sets {
		if !collect(set) {
			return false
		}
	}
	if c.over > 0 {
		return false
	}
	for _, name := range names {
		if !c.place(children[name]) {
			return false
		}
	}
	return true
}

package httpapi

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"seatgraph/internal/codes"
)

// noDefer refuses, before execution, an operation that defers part of its
// answer (@defer, which every schema knows): the server's answers are
// single JSON documents, so the deferred fields would come back null with
// no error. @defer(if: false) defers nothing and is accepted. The
// generated code relies on it: objects are resolved without a deferred
// group (scripts/listitems).
type noDefer struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = noDefer{}

func (noDefer) ExtensionName() string                   { return "NoDefer" }
func (noDefer) Validate(graphql.ExecutableSchema) error { return nil }

func (noDefer) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if !defers(opCtx.Operation.SelectionSet, opCtx.Variables, map[string]bool{}) {
		return nil
	}
	err := gqlerror.Errorf("@defer is not supported: this server sends each answer whole; select the fields without @defer")
	errcode.Set(err, codes.ValidationFailed)
	return err
}

// defers reports whether a fragment under set is deferred.
func defers(set ast.SelectionSet, vars map[string]any, seen map[string]bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if defers(s.SelectionSet, vars, seen) {
				return true
			}
		case *ast.InlineFragment:
			if deferred(s.Directives, vars) || defers(s.SelectionSet, vars, seen) {
				return true
			}
		case *ast.FragmentSpread:
			if deferred(s.Directives, vars) {
				return true
			}
			if s.Definition != nil && !seen[s.Name] {
				seen[s.Name] = true
				if defers(s.Definition.SelectionSet, vars, seen) {
					return true
				}
			}
		}
	}
	return false
}

// deferred reports whether directives defer their fragment: @defer
// without if, or with an if that is not false.
func deferred(ds ast.DirectiveList, vars map[string]any) bool {
	d := ds.ForName("defer")
	if d == nil {
		return false
	}
	if arg := d.Arguments.ForName("if"); arg != nil {
		if v, err := arg.Value.Value(vars); err == nil && v == false {
			return false
		}
	}
	return true
}

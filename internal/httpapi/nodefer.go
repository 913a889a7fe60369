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
	defers := anySelection(opCtx.Operation.SelectionSet, func(sel ast.Selection) bool {
		switch s := sel.(type) {
		case *ast.InlineFragment:
			return deferred(s.Directives, opCtx.Variables)
		case *ast.FragmentSpread:
			return deferred(s.Directives, opCtx.Variables)
		}
		return false
	})
	if !defers {
		return nil
	}
	err := gqlerror.Errorf("@defer is not supported: this server sends each answer whole; select the fields without @defer")
	errcode.Set(err, codes.ValidationFailed)
	return err
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

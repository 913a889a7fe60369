package httpapi

import (
	"context"

	"seatgraph/internal/codes"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// noIntrospection refuses, before execution and as a validation error,
// operations that ask for __schema or __type when introspection is off
// (__typename and the federation _service stay allowed). Without it gqlgen would run the operation
// and fail the field with an uncoded error.
type noIntrospection struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = noIntrospection{}

func (noIntrospection) ExtensionName() string                   { return "NoIntrospection" }
func (noIntrospection) Validate(graphql.ExecutableSchema) error { return nil }

func (noIntrospection) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if !introspects(opCtx.Operation.SelectionSet) {
		// gqlgen's flag also gates the federation field _service, which a
		// gateway needs to compose the supergraph: with __schema and
		// __type refused above, lifting it reveals only the subgraph SDL.
		opCtx.DisableIntrospection = false
		return nil
	}
	err := gqlerror.Errorf("introspection is disabled on this server")
	errcode.Set(err, codes.ValidationFailed)
	return err
}

// introspects reports whether a root selection set asks for __schema or
// __type, directly or through fragments.
func introspects(set ast.SelectionSet) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				return true
			}
		case *ast.InlineFragment:
			if introspects(s.SelectionSet) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition != nil && introspects(s.Definition.SelectionSet) {
				return true
			}
		}
	}
	return false
}

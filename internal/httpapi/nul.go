package httpapi

import (
	"context"
	"strings"

	"seatgraph/internal/codes"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// noNUL refuses, before execution, an operation whose string literals
// hold U+0000 (however escaped): PostgreSQL text cannot store it. The
// variables were checked as the request was read.
type noNUL struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = noNUL{}

func (noNUL) ExtensionName() string                   { return "NoNUL" }
func (noNUL) Validate(graphql.ExecutableSchema) error { return nil }

func (noNUL) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	op := opCtx.Operation
	found := anySelection(op.SelectionSet, selectionHasNUL)
	for _, v := range op.VariableDefinitions {
		found = found || valueHasNUL(v.DefaultValue)
	}
	if !found {
		return nil
	}
	err := gqlerror.Errorf("strings must not contain the NUL character (U+0000)")
	errcode.Set(err, codes.BadUserInput)
	return err
}

// selectionHasNUL reports whether the arguments or directives of one
// selection hold the NUL character.
func selectionHasNUL(sel ast.Selection) bool {
	switch s := sel.(type) {
	case *ast.Field:
		return argsHaveNUL(s.Arguments) || directivesHaveNUL(s.Directives)
	case *ast.InlineFragment:
		return directivesHaveNUL(s.Directives)
	case *ast.FragmentSpread:
		return directivesHaveNUL(s.Directives)
	}
	return false
}

func directivesHaveNUL(ds ast.DirectiveList) bool {
	for _, d := range ds {
		if argsHaveNUL(d.Arguments) {
			return true
		}
	}
	return false
}

func argsHaveNUL(args ast.ArgumentList) bool {
	for _, a := range args {
		if valueHasNUL(a.Value) {
			return true
		}
	}
	return false
}

func valueHasNUL(v *ast.Value) bool {
	if v == nil {
		return false
	}
	if (v.Kind == ast.StringValue || v.Kind == ast.BlockValue) && strings.ContainsRune(v.Raw, 0) {
		return true
	}
	for _, c := range v.Children {
		if valueHasNUL(c.Value) {
			return true
		}
	}
	return false
}

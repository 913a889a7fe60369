package graph

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestFieldsInOrderAsGqlgen: the fields that fieldsInOrder resolves in
// place of gqlgen's concurrent resolution end as gqlgen's would: each
// value in its place, a panic as that field's error and a null, and a
// non-null field that resolved to null making its object null (Invalids).
func TestFieldsInOrderAsGqlgen(t *testing.T) {
	oc := &graphql.OperationContext{RecoverFunc: func(_ context.Context, v any) error { return errors.New("boom: " + v.(string)) }}
	ctx := graphql.WithOperationContext(context.Background(), oc)
	ctx = graphql.WithResponseContext(ctx, graphql.DefaultErrorPresenter, nil)
	collected := []graphql.CollectedField{{Field: &ast.Field{Alias: "a"}}, {Field: &ast.Field{Alias: "b"}},
		{Field: &ast.Field{Alias: "c"}}, {Field: &ast.Field{Alias: "d"}}}
	value := func(s string) func(context.Context) graphql.Marshaler {
		return func(context.Context) graphql.Marshaler { return graphql.MarshalString(s) }
	}
	null := func(context.Context) graphql.Marshaler { return graphql.Null }

	for _, tc := range []struct {
		name     string
		fields   []func(context.Context) graphql.Marshaler
		nonNull  []bool
		want     string
		invalids uint32
		errs     int
	}{
		{name: "values", fields: []func(context.Context) graphql.Marshaler{value("x"), value("y"), value("z")},
			nonNull: []bool{true, true, true}, want: `{"a":"x","b":"y","c":"z","d":"w"}`},
		{name: "one field", fields: []func(context.Context) graphql.Marshaler{value("x")}, nonNull: []bool{true},
			want: `{"a":"x","b":null,"c":null,"d":"w"}`},
		{name: "a panic", fields: []func(context.Context) graphql.Marshaler{value("x"),
			func(context.Context) graphql.Marshaler { panic("oops") }, value("z")},
			nonNull: []bool{true, false, true}, want: `{"a":"x","b":null,"c":"z","d":"w"}`, errs: 1},
		{name: "a null where none may be", fields: []func(context.Context) graphql.Marshaler{value("x"), null, null},
			nonNull: []bool{true, true, false}, want: `{"a":"x","b":null,"c":null,"d":"w"}`, invalids: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := graphql.WithResponseContext(ctx, graphql.DefaultErrorPresenter, nil)
			out := graphql.NewFieldSet(collected)
			for i := range collected {
				out.Values[i] = graphql.Null
			}
			out.Values[3] = graphql.MarshalString("w") // a column, resolved in the loop
			var later fieldsInOrder
			for i, f := range tc.fields {
				later.add(oc, i, collected[i].Field, true, tc.nonNull[i], f)
			}
			later.dispatch(ctx, out)
			var b strings.Builder
			out.MarshalGQL(&b)
			if b.String() != tc.want {
				t.Errorf("object %s, want %s", b.String(), tc.want)
			}
			if out.Invalids != tc.invalids {
				t.Errorf("invalid fields %d, want %d", out.Invalids, tc.invalids)
			}
			if errs := graphql.GetErrors(ctx); len(errs) != tc.errs {
				t.Errorf("errors %v, want %d", errs, tc.errs)
			} else if tc.errs > 0 && !strings.Contains(errs[0].Message, "boom: oops") {
				t.Errorf("error %q, want the recovered panic", errs[0].Message)
			}
		})
	}
}

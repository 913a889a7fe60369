package graph

import (
	"context"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"seatgraph/internal/loaders"
)

// resolveItems resolves the items of a list (loaders.Items); the generated code
// calls it in place of gqlgen's graphql.MarshalSliceConcurrently (see
// scripts/listitems).
func resolveItems(ctx context.Context, n int, item func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	return loaders.Items(ctx, n, item)
}

// fieldsInOrder collects the fields of one object that gqlgen resolves
// each in a goroutine of its own (those with resolvers); dispatch resolves
// them with loaders.Fields: in order, until one of them reads. The
// generated code uses it in place of gqlgen's FieldSet.ResolveConcurrently
// and FieldSet.Dispatch (see scripts/listitems).
type fieldsInOrder struct{ pending []pendingField }

type pendingField struct {
	i                         int
	field                     *ast.Field
	recoverFromPanic, nonNull bool
	oc                        *graphql.OperationContext
	resolve                   func(ctx context.Context) graphql.Marshaler
}

// add schedules field i of the object, as FieldSet.ResolveConcurrently
// does. A field the operation defers is resolved with the others, in the
// one answer (which the incremental delivery spec allows a server to do):
// the server refuses @defer, and the generated code's deferred group is
// empty (scripts/listitems), so gqlgen could not defer it anyway.
func (f *fieldsInOrder) add(oc *graphql.OperationContext, i int, field *ast.Field, recoverFromPanic, nonNull bool, resolve func(ctx context.Context) graphql.Marshaler) {
	f.pending = append(f.pending, pendingField{i: i, field: field, recoverFromPanic: recoverFromPanic, nonNull: nonNull, oc: oc, resolve: resolve})
}

// dispatch resolves the fields scheduled, as FieldSet.Dispatch does. An
// object whose field has a union or interface type first tells the
// loaders which fields with resolvers it has (loaders.Shaped): the
// batches of the other types' fields need not wait for it.
func (f *fieldsInOrder) dispatch(ctx context.Context, out *graphql.FieldSet) {
	out.Dispatch(ctx)
	if fc := graphql.GetFieldContext(ctx); fc != nil && fc.Field.Field != nil && fc.Field.Definition != nil && abstract[fc.Field.Definition.Type.Name()] {
		fields := make([]loaders.Named, len(f.pending))
		for k, p := range f.pending {
			fields[k] = loaders.Named{Alias: p.field.Alias, Name: p.field.Name}
		}
		loaders.Shaped(ctx, fields)
	}
	switch pending := f.pending; len(pending) {
	case 0:
	case 1:
		pending[0].into(ctx, out) // nothing to start beside it
	default:
		loaders.Fields(ctx, len(pending), func(ctx context.Context, k int) { pending[k].into(ctx, out) })
	}
}

// abstract are the schema's unions and interfaces.
var abstract = func() map[string]bool {
	m := map[string]bool{}
	for name, t := range parsedSchema.Types {
		if t.Kind == ast.Union || t.Kind == ast.Interface {
			m[name] = true
		}
	}
	return m
}()

// into resolves the field and stores its value in out, counting it as
// invalid (the object becomes null) when a non-null field resolved to null,
// and a panic as that field's error when recoverFromPanic.
func (p *pendingField) into(ctx context.Context, out *graphql.FieldSet) {
	v := p.value(ctx)
	out.Values[p.i] = v
	invalid := graphql.RequiredNull
	if p.nonNull {
		invalid = graphql.Null
	}
	if v == invalid {
		atomic.AddUint32(&out.Invalids, 1)
	}
}

func (p *pendingField) value(ctx context.Context) (v graphql.Marshaler) {
	if p.recoverFromPanic {
		defer func() {
			if r := recover(); r != nil {
				p.oc.Error(ctx, p.oc.Recover(ctx, r))
				v = graphql.Null
			}
		}()
	}
	return p.resolve(ctx)
}

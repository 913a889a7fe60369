package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"seatgraph/internal/loaders"
)

// resolveItems resolves the items of a list (loaders.Items); the generated code
// calls it in place of gqlgen's graphql.MarshalSliceConcurrently (see
// scripts/listitems).
func resolveItems(ctx context.Context, n int, item func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	return loaders.Items(ctx, n, item)
}

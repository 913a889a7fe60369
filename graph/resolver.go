// Package graph is seatgraph's GraphQL layer: thin resolvers that read
// arguments, call one service or loader, and map the result.
package graph

//go:generate go tool gqlgen generate

import (
	"seatgraph/internal/store"
)

// Resolver holds the dependencies every resolver shares.
type Resolver struct {
	DB *store.DB
	// Source is the provenance tag stamped on records whose input names none.
	Source string
}

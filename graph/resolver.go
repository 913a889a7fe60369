// Package graph is seatgraph's GraphQL layer: thin resolvers that read
// arguments, call one service or loader, and map the result.
package graph

//go:generate go tool gqlgen generate
//go:generate go run ../scripts/listitems generated.go

import (
	"context"
	"time"

	"seatgraph/internal/events"
	"seatgraph/internal/loaders"
	"seatgraph/internal/store"
	"seatgraph/internal/webhooks"
)

// Resolver holds the dependencies every resolver shares.
type Resolver struct {
	DB *store.DB
	// Source is the provenance tag stamped on records whose input names none.
	Source string
	// Events feeds the subscriptions.
	Events *events.Hub
	// Webhooks checks endpoint URLs.
	Webhooks webhooks.Guard
}

// now is the database's clock for this request's reads (see
// store.Session.Now): what a status or an expiry is judged against.
func (r *Resolver) now(ctx context.Context) time.Time {
	return loaders.Session(ctx).Now()
}

package graph

import (
	"context"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"seatgraph/internal/auth"
	"seatgraph/internal/codes"
	"seatgraph/internal/licensing"
	"seatgraph/internal/loaders"
	"seatgraph/internal/logging"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// writeBoundary readies a request for each of its mutations, before the
// mutation's resolver runs (Fields calls it): the request's reads end (it
// holds no connection while the write waits for one) and its loaders
// forget what they read (so the payload shows what the write did). After
// a mutation that gave up (SERVICE_UNAVAILABLE), the later mutations of
// the request do not run.
func writeBoundary(ctx context.Context) error {
	if store.GaveUp(ctx) {
		// An earlier mutation could not get its turn: what follows
		// would likely wait as long, and the client retries from it.
		return &gqlerror.Error{Message: "not run: an earlier mutation of this request could not get its turn",
			Extensions: map[string]any{"code": codes.ServiceUnavailable}}
	}
	if err := loaders.EndReadsForWrite(ctx); err != nil {
		logging.From(ctx).WarnContext(ctx, "ending the read transaction before a write", "error", err.Error())
	}
	return nil
}

// actor is the writer behind a mutation: the caller's tenant, app and
// subject, with the server's default provenance.
func (r *Resolver) actor(ctx context.Context) licensing.Actor {
	p := auth.FromContext(ctx)
	return licensing.Actor{Tenant: store.Tenant{ID: p.TenantID, AppID: p.AppID}, Subject: p.Subject,
		Source: r.Source, SourceType: models.SourceAPI}
}

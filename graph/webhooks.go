package graph

import (
	"context"

	"seatgraph/graph/model"
	"seatgraph/internal/auth"
	"seatgraph/internal/loaders"
	"seatgraph/internal/store"
	"seatgraph/internal/webhooks"
	"seatgraph/models"
)

// webhookActor is the caller managing webhook endpoints.
func (r *Resolver) webhookActor(ctx context.Context) webhooks.Actor {
	p := auth.FromContext(ctx)
	return webhooks.Actor{Tenant: store.Tenant{ID: p.TenantID, AppID: p.AppID}, Subject: p.Subject}
}

func endpointPayload(res *webhooks.Result, err error) (*model.WebhookEndpointPayload, error) {
	p := &model.WebhookEndpointPayload{}
	if p.UserErrors, err = userErrors(err); res != nil && err == nil && len(p.UserErrors) == 0 {
		p.Endpoint, p.Secret = res.Endpoint, res.Secret
	}
	return p, err
}

// endpointDeliveries reads an endpoint's latest deliveries.
func endpointDeliveries(ctx context.Context, e *models.WebhookEndpoint, first *int, status []string) ([]*webhooks.Delivery, error) {
	n := 20
	if first != nil {
		n = *first
	}
	if n < 0 || n > 100 {
		return nil, coded("BAD_USER_INPUT", "first must be between 0 and 100")
	}
	return webhooks.Deliveries(ctx, loaders.Session(ctx), e, n, status)
}

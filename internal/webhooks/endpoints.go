// Package webhooks sends the event outbox to the URLs a tenant registers,
// in the Standard Webhooks format (https://www.standardwebhooks.com/):
// endpoints and their secrets (this file), signing (sign.go), the guard
// against requests to private addresses (ssrf.go), and the delivery worker
// that any replica runs (worker.go).
package webhooks

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/gid"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// SecretPrefix starts every signing secret.
const SecretPrefix = "whsec_"

// maxEndpoints bounds a tenant's endpoints.
const maxEndpoints = 100

// Actor is who manages endpoints.
type Actor struct {
	Tenant  store.Tenant
	Subject string
}

// CreateInput is the input of createWebhookEndpoint.
type CreateInput struct {
	URL         string
	EventTypes  []string
	Description *string
}

// UpdateInput is the input of updateWebhookEndpoint.
type UpdateInput struct {
	ID          string
	URL         *string
	EventTypes  []string
	Description *string
	// Enabled re-enables an endpoint the server disabled (or disables one).
	Enabled *bool
}

// IDInput names an endpoint.
type IDInput struct{ ID string }

// RotateInput is the input of rotateWebhookSecret.
type RotateInput struct {
	ID string
	// OverlapSeconds is how long the previous secret keeps signing
	// (default 24 hours, at most 7 days).
	OverlapSeconds *int
}

// RedeliverInput is the input of redeliverWebhook.
type RedeliverInput struct{ DeliveryID string }

// Result is an endpoint, with its secret when it was just made.
type Result struct {
	Endpoint *models.WebhookEndpoint
	Secret   *string
}

var eventType = regexp.MustCompile(`^[a-z]+\.[a-z_]+$`)

// Guard checks endpoint URLs (SSRF); Open and tests set it.
type Guard struct{ AllowPrivate bool }

func (g Guard) checkURL(ctx context.Context, c *problem.Check, raw string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil:
		c.Add(problem.Invalid, "url", "must be an absolute http(s) URL without credentials")
		return
	case len(raw) > 2000:
		c.Add(problem.Invalid, "url", "must be at most 2000 characters")
		return
	}
	if err := g.checkHost(ctx, u.Hostname()); err != nil {
		c.Add(problem.Invalid, "url", "%s", err.Error())
	}
}

func checkTypes(c *problem.Check, types []string) {
	for _, t := range types {
		if !eventType.MatchString(t) {
			c.Add(problem.Invalid, "eventTypes", "%q is not an event type (such as assignment.created)", t)
		}
	}
}

func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// Create registers an endpoint and returns it with its secret, which is
// shown this once.
func (g Guard) Create(ctx context.Context, db *store.DB, a Actor, in CreateInput) (*Result, error) {
	c := problem.Check{Prefix: "input."}
	g.checkURL(ctx, &c, in.URL)
	checkTypes(&c, in.EventTypes)
	c.Text("description", in.Description, false)
	if err := c.Err(); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	e := &models.WebhookEndpoint{TenantID: a.Tenant.ID, ID: gid.New(), AppID: a.Tenant.AppID, URL: in.URL,
		Description: in.Description, EventTypes: nonNil(in.EventTypes), Secret: newSecret(), Enabled: true,
		CreatedAt: now, UpdatedAt: now, CreatedBy: a.Subject, UpdatedBy: a.Subject}
	err := db.Write(ctx, a.Tenant, func(s store.Scope) error {
		n, err := s.Select((*models.WebhookEndpoint)(nil)).Where("NOT we.is_deleted").Count(ctx)
		if err != nil {
			return err
		}
		if n >= maxEndpoints {
			return problem.New(problem.Conflict, "input.url", "a tenant may have at most %d webhook endpoints", maxEndpoints)
		}
		if _, err := s.Insert(e).Exec(ctx); err != nil {
			return err
		}
		// The delivery worker visits the tenants listed here.
		_, err = s.Exec(ctx, "INSERT INTO webhook_tenants (tenant_id) VALUES (?) ON CONFLICT DO NOTHING", a.Tenant.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Result{Endpoint: e, Secret: &e.Secret}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// change runs fn on the endpoint named by id (field names it), locked.
func change(ctx context.Context, db *store.DB, a Actor, id string, fn func(s store.Scope, e *models.WebhookEndpoint) error) (*models.WebhookEndpoint, error) {
	c := problem.Check{Prefix: "input."}
	u := c.ID(gid.WebhookEndpoint, "id", id)
	if err := c.Err(); err != nil {
		return nil, err
	}
	e := new(models.WebhookEndpoint)
	err := db.Write(ctx, a.Tenant, func(s store.Scope) error {
		err := s.Select(e).Where("we.id = ?", u).Where("NOT we.is_deleted").For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return problem.New(problem.NotFound, "input.id", "no webhook endpoint %s", id)
		}
		if err != nil {
			return err
		}
		if err := fn(s, e); err != nil {
			return err
		}
		e.UpdatedAt, e.UpdatedBy = time.Now().UTC(), a.Subject
		_, err = s.Update(e).WherePK().Exec(ctx)
		return err
	})
	return e, err
}

// Update changes an endpoint; enabling it again clears its run of failures.
func (g Guard) Update(ctx context.Context, db *store.DB, a Actor, in UpdateInput) (*Result, error) {
	c := problem.Check{Prefix: "input."}
	if in.URL != nil {
		g.checkURL(ctx, &c, *in.URL)
	}
	checkTypes(&c, in.EventTypes)
	c.Text("description", in.Description, false)
	if err := c.Err(); err != nil {
		return nil, err
	}
	e, err := change(ctx, db, a, in.ID, func(_ store.Scope, e *models.WebhookEndpoint) error {
		if in.URL != nil {
			e.URL = *in.URL
		}
		if in.EventTypes != nil {
			e.EventTypes = in.EventTypes
		}
		if in.Description != nil {
			e.Description = in.Description
		}
		if in.Enabled != nil && *in.Enabled != e.Enabled {
			e.Enabled, e.FailingSince, e.DisabledAt, e.DisabledReason = *in.Enabled, nil, nil, nil
			if !e.Enabled {
				now, why := time.Now().UTC(), "disabled by "+a.Subject
				e.DisabledAt, e.DisabledReason = &now, &why
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Result{Endpoint: e}, nil
}

// Delete removes an endpoint; its pending deliveries are not sent.
func Delete(ctx context.Context, db *store.DB, a Actor, in IDInput) (*Result, error) {
	e, err := change(ctx, db, a, in.ID, func(s store.Scope, e *models.WebhookEndpoint) error {
		now := time.Now().UTC()
		e.IsDeleted, e.DeletedAt, e.Enabled = true, &now, false
		_, err := s.Update((*models.WebhookDelivery)(nil)).Set("status = ?", models.DeliveryFailed).
			Set("last_error = ?", "endpoint deleted").Where("wd.endpoint_id = ?", e.ID).
			Where("wd.status IN (?)", bun.List([]string{models.DeliveryPending, models.DeliveryFailing})).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Result{Endpoint: e}, nil
}

// Rotate gives an endpoint a new secret, returned this once; the previous
// one keeps signing (a second signature) for the overlap, so receivers
// can switch without losing a delivery.
func Rotate(ctx context.Context, db *store.DB, a Actor, in RotateInput) (*Result, error) {
	overlap := 24 * time.Hour
	if in.OverlapSeconds != nil {
		if *in.OverlapSeconds < 0 || *in.OverlapSeconds > 7*24*3600 {
			return nil, problem.New(problem.Invalid, "input.overlapSeconds", "must be between 0 and 604800")
		}
		overlap = time.Duration(*in.OverlapSeconds) * time.Second
	}
	e, err := change(ctx, db, a, in.ID, func(_ store.Scope, e *models.WebhookEndpoint) error {
		until := time.Now().UTC().Add(overlap)
		prev := e.Secret
		e.PreviousSecret, e.PreviousSecretExpiresAt, e.Secret = &prev, &until, newSecret()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Result{Endpoint: e, Secret: &e.Secret}, nil
}

// Redeliver sends a delivery again, now (its attempts so far are kept).
func Redeliver(ctx context.Context, db *store.DB, a Actor, in RedeliverInput) (*Delivery, error) {
	c := problem.Check{Prefix: "input."}
	u := c.ID(gid.WebhookDelivery, "deliveryId", in.DeliveryID)
	if err := c.Err(); err != nil {
		return nil, err
	}
	d := new(Delivery)
	err := db.Write(ctx, a.Tenant, func(s store.Scope) error {
		q := s.Select(d).ColumnExpr("wd.*, ev.id AS event_id, ev.type AS event_type").
			Join("JOIN events AS ev ON ev.tenant_id = wd.tenant_id AND ev.seq = wd.event_seq").
			Where("wd.id = ?", u).For("UPDATE OF wd")
		q = q.Join("JOIN webhook_endpoints AS we ON we.tenant_id = wd.tenant_id AND we.id = wd.endpoint_id").
			Where("NOT we.is_deleted")
		if a.Tenant.AppID != nil {
			q = q.Where("we.app_id = ?", *a.Tenant.AppID)
		}
		err := q.Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return problem.New(problem.NotFound, "input.deliveryId", "no webhook delivery %s", in.DeliveryID)
		}
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		d.Status, d.NextAttemptAt = models.DeliveryPending, &now
		_, err = s.Update(&d.WebhookDelivery).Column("status", "next_attempt_at").WherePK().Exec(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// List reads the tenant's (or app's) endpoints, newest first.
func List(ctx context.Context, sess *store.Session) ([]*models.WebhookEndpoint, error) {
	var out []*models.WebhookEndpoint
	err := sess.Read(ctx, func(s store.Scope) error {
		return s.Select(&out).Where("NOT we.is_deleted").OrderExpr("we.id DESC").Limit(int64(maxEndpoints)).Scan(ctx)
	})
	return out, err
}

// Deliveries reads an endpoint's latest deliveries (at most first, ≤ 100),
// newest first, optionally of some statuses, with their event types.
func Deliveries(ctx context.Context, sess *store.Session, endpoint *models.WebhookEndpoint, first int, statuses []string) ([]*Delivery, error) {
	var out []*Delivery
	err := sess.Read(ctx, func(s store.Scope) error {
		q := s.Select(&out).ColumnExpr("wd.*, ev.id AS event_id, ev.type AS event_type").
			Join("JOIN events AS ev ON ev.tenant_id = wd.tenant_id AND ev.seq = wd.event_seq").
			Where("wd.endpoint_id = ?", endpoint.ID).OrderExpr("wd.created_at DESC, wd.id DESC").Limit(int64(first))
		if len(statuses) > 0 {
			q = q.Where("wd.status IN (?)", bun.List(statuses))
		}
		return q.Scan(ctx)
	})
	return out, err
}

// Delivery is a delivery with its event's id and type.
type Delivery struct {
	models.WebhookDelivery `bun:",extend"`
	EventID                uuid.UUID `bun:"event_id,type:uuid"`
	EventType              string    `bun:"event_type"`
}

// hostOf is the host part of a URL, for logs.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

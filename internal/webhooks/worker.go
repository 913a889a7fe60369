package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/events"
	"seatgraph/internal/gid"
	"seatgraph/internal/licensing"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// DefaultSchedule is the wait before each retry (after the first attempt),
// as Standard Webhooks suggests; each wait is jittered by ±25%.
var DefaultSchedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
	5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// Options tune the worker.
type Options struct {
	// Schedule is the wait before each retry; after the last, a delivery
	// is FAILED (DefaultSchedule when empty).
	Schedule []time.Duration
	// DisableAfter disables an endpoint whose deliveries have failed,
	// without a success, for this long (24 hours).
	DisableAfter time.Duration
	// Timeout bounds an attempt (10 s).
	Timeout time.Duration
	// Lease is how long a replica holds a delivery it is sending; a
	// replica that dies mid-delivery leaves it due again after the lease
	// (Timeout + 20 s).
	Lease time.Duration
	// PerEndpoint bounds the deliveries sent to one endpoint at once (4).
	PerEndpoint int
	// Poll is how often due retries are looked for (1 s); new events wake
	// the worker at once.
	Poll  time.Duration
	Guard Guard
}

// Worker sends due deliveries. Every replica runs one; they share the
// work through row locks (FOR UPDATE SKIP LOCKED) and leases.
type Worker struct {
	db     *store.DB
	hub    *events.Hub
	log    *slog.Logger
	opts   Options
	client *http.Client

	mu    sync.Mutex
	busy  map[uuid.UUID]int // endpoint → deliveries in flight
	woken map[string]bool   // tenants with new events since the last round
	// hooked are the tenants with webhook endpoints, as of the last full
	// round: a notification of any other tenant costs no statement.
	hooked map[string]bool
	wake   chan struct{}
	wg     sync.WaitGroup
}

// NewWorker makes a worker; Run starts it.
func NewWorker(db *store.DB, hub *events.Hub, log *slog.Logger, opts Options) *Worker {
	if len(opts.Schedule) == 0 {
		opts.Schedule = DefaultSchedule
	}
	if opts.DisableAfter <= 0 {
		opts.DisableAfter = 24 * time.Hour
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Lease <= 0 {
		opts.Lease = opts.Timeout + 20*time.Second
	}
	if opts.PerEndpoint <= 0 {
		opts.PerEndpoint = 4
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	return &Worker{db: db, hub: hub, log: log, opts: opts, client: opts.Guard.Client(opts.Timeout),
		busy: map[uuid.UUID]int{}, woken: map[string]bool{}, hooked: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// Run sends deliveries until ctx ends, then waits for those in flight.
func (w *Worker) Run(ctx context.Context) {
	w.hub.OnNotify(func(tenant string) {
		w.mu.Lock()
		w.woken[tenant] = true
		w.mu.Unlock()
		select {
		case w.wake <- struct{}{}:
		default:
		}
	})
	tick := time.NewTicker(w.opts.Poll)
	defer tick.Stop()
	defer w.wg.Wait()
	all := true
	for {
		if err := w.round(ctx, all); err != nil && ctx.Err() == nil {
			w.log.Warn("webhook round failed", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
			all = false
		case <-tick.C:
			all = true
		}
	}
}

// round starts the due deliveries of the tenants just notified, or (all)
// of every tenant with a webhook endpoint, for retries; one tenant per
// statement.
func (w *Worker) round(ctx context.Context, all bool) error {
	w.mu.Lock()
	var tenants []string
	for t := range w.woken {
		if w.hooked[t] || t == "" {
			tenants = append(tenants, t)
		}
	}
	clear(w.woken)
	w.mu.Unlock()
	if all || slices.Contains(tenants, "") {
		var err error
		if tenants, err = w.hookedTenants(ctx); err != nil {
			return err
		}
		w.mu.Lock()
		clear(w.hooked)
		for _, t := range tenants {
			w.hooked[t] = true
		}
		w.mu.Unlock()
	}
	var errs []error
	for _, tenant := range tenants {
		if err := w.claim(ctx, tenant); err != nil {
			errs = append(errs, fmt.Errorf("tenant %s: %w", tenant, err))
		}
	}
	return errors.Join(errs...)
}

// hookedTenants lists the tenants with webhook endpoints. It is an
// operational read of names, like a health check, and so goes past the
// pool's statement counter (which counts requests' statements): a worker
// polling every second must not blur what a request costs.
func (w *Worker) hookedTenants(ctx context.Context) ([]string, error) {
	rows, err := w.db.SQL().QueryContext(ctx, "SELECT tenant_id FROM webhook_tenants ORDER BY tenant_id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// dueSQL is the condition of a delivery still to be sent, the predicate
// of webhook_deliveries_due_idx. The statuses are written into the text,
// not sent as values: the pool's generic plans (store.GenericPlans) could
// not prove a partial index's predicate from values, and read every
// delivery of every tenant each second.
const dueSQL = "wd.status IN ('" + models.DeliveryPending + "', '" + models.DeliveryFailing + "')"

// claim takes the tenant's due deliveries that no other replica holds,
// within each endpoint's concurrency, leases them and sends them.
func (w *Worker) claim(ctx context.Context, tenant string) error {
	var taken []*models.WebhookDelivery
	err := w.db.Write(ctx, store.Tenant{ID: tenant}, func(s store.Scope) error {
		var due []*models.WebhookDelivery
		err := s.Select(&due).Where(dueSQL).
			Where("wd.next_attempt_at <= now()").OrderExpr("wd.next_attempt_at, wd.id").Limit(50).
			For("UPDATE SKIP LOCKED").Scan(ctx)
		if err != nil || len(due) == 0 {
			return err
		}
		w.mu.Lock()
		for _, d := range due {
			if w.busy[d.EndpointID] < w.opts.PerEndpoint {
				w.busy[d.EndpointID]++
				taken = append(taken, d)
			}
		}
		w.mu.Unlock()
		ids := make([]uuid.UUID, len(taken))
		for i, d := range taken {
			ids[i] = d.ID
		}
		if len(ids) == 0 {
			return nil
		}
		_, err = s.Update((*models.WebhookDelivery)(nil)).Set("next_attempt_at = now() + ?::interval", w.opts.Lease.String()).
			Where("wd.id IN (?)", bun.List(ids)).Exec(ctx)
		return err
	})
	if err != nil {
		w.release(taken)
		return err
	}
	for _, d := range taken {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			defer w.release([]*models.WebhookDelivery{d})
			if err := w.send(ctx, d); err != nil && ctx.Err() == nil {
				w.log.Warn("webhook delivery could not be recorded", "tenant", tenant, "error", err.Error())
			}
		}()
	}
	return nil
}

func (w *Worker) release(ds []*models.WebhookDelivery) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, d := range ds {
		if w.busy[d.EndpointID]--; w.busy[d.EndpointID] <= 0 {
			delete(w.busy, d.EndpointID)
		}
	}
}

// attempt is the outcome of one POST.
type attempt struct {
	status   *int
	err      string
	duration time.Duration
}

func (a attempt) ok() bool { return a.status != nil && *a.status >= 200 && *a.status < 300 }

// send makes one attempt of d and records its outcome.
func (w *Worker) send(ctx context.Context, d *models.WebhookDelivery) error {
	tenant := store.Tenant{ID: d.TenantID}
	ev, e := new(models.Event), new(models.WebhookEndpoint)
	sess := w.db.Session(ctx, tenant)
	err := sess.Read(ctx, func(s store.Scope) error {
		if err := s.Select(ev).Where("ev.seq = ?", d.EventSeq).Scan(ctx); err != nil {
			return err
		}
		return s.Select(e).Where("we.id = ?", d.EndpointID).Scan(ctx)
	})
	_ = sess.Close()
	if err != nil {
		return err
	}
	if !e.Enabled || e.IsDeleted {
		return w.record(ctx, d, e, attempt{err: "endpoint disabled"}, true)
	}
	return w.record(ctx, d, e, w.post(ctx, ev, e), false)
}

// post sends ev to e, signed, and returns the outcome.
func (w *Worker) post(ctx context.Context, ev *models.Event, e *models.WebhookEndpoint) attempt {
	body, _ := json.Marshal(map[string]any{"type": ev.Type, "timestamp": ev.OccurredAt.UTC().Format(time.RFC3339Nano),
		"data": ev.Data})
	id, ts := gid.Event.Format(ev.ID), time.Now().Unix()
	sig, err := Sign(e.Secret, id, ts, body)
	if err != nil {
		return attempt{err: err.Error()}
	}
	if e.PreviousSecret != nil && e.PreviousSecretExpiresAt != nil && time.Now().Before(*e.PreviousSecretExpiresAt) {
		if prev, err := Sign(*e.PreviousSecret, id, ts, body); err == nil {
			sig += " " + prev
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(body))
	if err != nil {
		return attempt{err: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "seatgraph-webhooks/1")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", fmt.Sprint(ts))
	req.Header.Set("webhook-signature", sig)
	start := time.Now()
	resp, err := w.client.Do(req)
	a := attempt{duration: time.Since(start)}
	if err != nil {
		a.err = err.Error()
		return a
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	a.status = &resp.StatusCode
	if !a.ok() {
		a.err = fmt.Sprintf("%s answered %s", hostOf(e.URL), resp.Status)
	}
	return a
}

// record writes the outcome of an attempt: delivered; failing, with the
// next attempt after the schedule's (jittered) wait; or failed, at the
// schedule's end. An endpoint failing without a success for DisableAfter
// is disabled, and a webhook.endpoint_disabled event says so.
func (w *Worker) record(ctx context.Context, d *models.WebhookDelivery, e *models.WebhookEndpoint, a attempt, final bool) error {
	return licensing.Write(ctx, w.db, licensing.System(d.TenantID), nil, func(t *licensing.Tx) error {
		s, now := t.Scope(), t.Now()
		cur := new(models.WebhookDelivery)
		if err := s.Select(cur).Where("wd.id = ?", d.ID).For("UPDATE").Scan(ctx); err != nil {
			return err
		}
		cur.Attempts++
		cur.LastAttemptAt, cur.LastStatus = &now, a.status
		ms := int(a.duration.Milliseconds())
		cur.LastDurationMS, cur.LastError = &ms, nil
		if a.err != "" {
			msg := a.err
			if len(msg) > 500 {
				msg = msg[:500]
			}
			cur.LastError = &msg
		}
		switch {
		case a.ok():
			cur.Status, cur.NextAttemptAt = models.DeliveryDelivered, nil
		case final || cur.Attempts > len(w.opts.Schedule):
			cur.Status, cur.NextAttemptAt = models.DeliveryFailed, nil
		default:
			wait := w.opts.Schedule[cur.Attempts-1]
			next := now.Add(time.Duration(float64(wait) * (0.75 + rand.Float64()/2)))
			cur.Status, cur.NextAttemptAt = models.DeliveryFailing, &next
		}
		if _, err := s.Update(cur).WherePK().Exec(ctx); err != nil {
			return err
		}
		if final {
			return nil
		}
		return w.endpointOutcome(t, e.ID, a.ok())
	})
}

// endpointOutcome keeps the endpoint's run of failures, and disables it
// when the run has lasted DisableAfter.
func (w *Worker) endpointOutcome(t *licensing.Tx, id uuid.UUID, ok bool) error {
	ctx, s, now := t.Context(), t.Scope(), t.Now()
	e := new(models.WebhookEndpoint)
	if err := s.Select(e).Where("we.id = ?", id).For("UPDATE").Scan(ctx); err != nil {
		return err
	}
	switch {
	case ok && e.FailingSince == nil:
		return nil
	case ok:
		e.FailingSince = nil
	case e.FailingSince == nil:
		e.FailingSince = &now
	case e.Enabled && now.Sub(*e.FailingSince) >= w.opts.DisableAfter:
		why := fmt.Sprintf("every delivery failed for %s", w.opts.DisableAfter)
		e.Enabled, e.DisabledAt, e.DisabledReason = false, &now, &why
		_, err := s.Update((*models.WebhookDelivery)(nil)).Set("status = ?", models.DeliveryFailed).
			Set("next_attempt_at = NULL").Where("wd.endpoint_id = ?", e.ID).Where(dueSQL).Exec(ctx)
		if err != nil {
			return err
		}
		t.NoteEvent("webhook.endpoint_disabled", e.ID, EndpointView(e), map[string]any{"enabled": false, "disabledReason": why})
	default:
		return nil
	}
	_, err := s.Update(e).Column("failing_since", "enabled", "disabled_at", "disabled_reason").WherePK().Exec(ctx)
	return err
}

// EndpointView is an endpoint as the API shows it (without its secret).
func EndpointView(e *models.WebhookEndpoint) map[string]any {
	return map[string]any{"__typename": "WebhookEndpoint", "id": gid.WebhookEndpoint.Format(e.ID), "url": e.URL,
		"description": e.Description, "eventTypes": e.EventTypes, "enabled": e.Enabled, "disabledAt": e.DisabledAt,
		"disabledReason": e.DisabledReason, "createdAt": e.CreatedAt, "updatedAt": e.UpdatedAt}
}

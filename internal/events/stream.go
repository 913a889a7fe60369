package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/licensing"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// Filter selects the events a stream delivers.
type Filter struct {
	// Assignments keeps the assignment events that have a history row
	// (every assignment.* type but the time-based notices).
	Assignments bool
	LicenseID   *uuid.UUID
	// AssigneeID is a person or group id.
	AssigneeID *uuid.UUID
}

func (f Filter) apply(q *bun.SelectQuery) *bun.SelectQuery {
	if f.Assignments {
		q = q.Where("ev.history IS NOT NULL")
	}
	if f.LicenseID != nil {
		q = q.Where("ev.license_id = ?", *f.LicenseID)
	}
	if f.AssigneeID != nil {
		q = q.Where("ev.assignee_id = ?", *f.AssigneeID)
	}
	return q
}

// ErrSlow ends a stream whose subscriber does not keep up: its buffer
// stayed full for Limits.SlowAfter.
var ErrSlow = errors.New("slow subscriber: events waited too long to be sent")

// ErrUnknownCursor is a cursor (an event id) that the tenant's outbox does
// not hold: never issued, of another tenant, or pruned.
var ErrUnknownCursor = errors.New("unknown or expired cursor")

// Stream is a live sequence of events.
type Stream struct {
	C    <-chan *models.Event
	err  error
	done chan struct{}
}

// Done is closed when the stream has stopped reading the outbox (its
// remaining events are still in C).
func (s *Stream) Done() <-chan struct{} { return s.done }

// Err says why the stream ended (nil when its context ended); valid once C
// is closed.
func (s *Stream) Err() error { return s.err }

// Subscribe streams tenant's events matching f with seq above after, in
// order, until ctx ends or the subscriber falls behind.
func (h *Hub) Subscribe(ctx context.Context, tenant store.Tenant, after int64, f Filter) (*Stream, error) {
	w, err := h.join(tenant.ID)
	if err != nil {
		return nil, err
	}
	out := make(chan *models.Event, h.limits.Buffer)
	s := &Stream{C: out, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer close(out)
		defer h.leave(tenant.ID, w)
		poll := time.NewTicker(h.limits.Poll)
		defer poll.Stop()
		cur := after
		for {
			evs, err := h.read(ctx, tenant, cur, f, 100)
			if err != nil && ctx.Err() == nil {
				h.log.Warn("reading events failed; retrying", "tenant", tenant.ID, "error", err.Error())
			}
			for _, ev := range evs {
				if sent, err := h.send(ctx, out, ev); !sent {
					s.err = err
					return
				}
				cur = ev.Seq
			}
			if len(evs) == 100 {
				continue
			}
			select {
			case <-ctx.Done():
				return
			case <-h.closing:
				return
			case <-w.wake:
			case <-poll.C:
			}
		}
	}()
	return s, nil
}

// send hands ev to the subscriber, waiting (at most SlowAfter) while its
// buffer is full: the stream's own goroutine waits, no other stream does.
// It reports false when the stream must end: with ErrSlow when the
// subscriber took nothing in that time, with nil when ctx ended or the
// hub closed meanwhile.
func (h *Hub) send(ctx context.Context, out chan<- *models.Event, ev *models.Event) (bool, error) {
	select {
	case out <- ev:
		return true, nil
	default:
	}
	slow := time.NewTimer(h.limits.SlowAfter)
	defer slow.Stop()
	select {
	case out <- ev:
		return true, nil
	case <-ctx.Done():
		return false, nil
	case <-h.closing:
		return false, nil
	case <-slow.C:
		return false, ErrSlow
	}
}

// read reads up to limit events after seq cur, under row-level security
// (and the app wall: an application reads its own records' events).
func (h *Hub) read(ctx context.Context, tenant store.Tenant, cur int64, f Filter, limit int) ([]*models.Event, error) {
	var evs []*models.Event
	sess := h.db.Session(ctx, tenant)
	defer sess.Close()
	err := sess.Read(ctx, func(s store.Scope) error {
		return f.apply(s.Select(&evs)).Where("ev.seq > ?", cur).OrderExpr("ev.seq").Limit(int64(limit)).Scan(ctx)
	})
	return evs, err
}

// Head is the seq of tenant's last committed event (0 when none).
func (h *Hub) Head(ctx context.Context, tenant store.Tenant) (int64, error) {
	var seq int64
	sess := h.db.Session(ctx, tenant)
	defer sess.Close()
	err := sess.Read(ctx, func(s store.Scope) error {
		return s.Compose().ColumnExpr("coalesce(max(last_seq), 0)").TableExpr("event_streams").
			Where("tenant_id = ?", tenant.ID).Scan(ctx, &seq)
	})
	return seq, err
}

// Cursor is the seq of the tenant's event id.
func (h *Hub) Cursor(ctx context.Context, tenant store.Tenant, id uuid.UUID) (int64, error) {
	var seq []int64
	sess := h.db.Session(ctx, tenant)
	defer sess.Close()
	err := sess.Read(ctx, func(s store.Scope) error {
		return s.Select((*models.Event)(nil)).Column("ev.seq").Where("ev.id = ?", id).Scan(ctx, &seq)
	})
	if err == nil && len(seq) == 0 {
		err = ErrUnknownCursor
	}
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrUnknownCursor
	}
	if err != nil {
		return 0, err
	}
	return seq[0], nil
}

// Seats streams license id as it is now, then again after each event
// about it (coalesced: a burst of events gives one read).
func (h *Hub) Seats(ctx context.Context, tenant store.Tenant, id uuid.UUID) (<-chan *models.License, *Stream, error) {
	head, err := h.Head(ctx, tenant)
	if err != nil {
		return nil, nil, err
	}
	first, err := h.license(ctx, tenant, id)
	if err != nil {
		return nil, nil, err
	}
	s, err := h.Subscribe(ctx, tenant, head, Filter{LicenseID: &id})
	if err != nil {
		return nil, nil, err
	}
	out := make(chan *models.License, 1)
	out <- first
	go func() {
		defer close(out)
		for range s.C {
			for drained := false; !drained; {
				select {
				case _, ok := <-s.C:
					drained = !ok
				default:
					drained = true
				}
			}
			l, err := h.license(ctx, tenant, id)
			if err != nil {
				return
			}
			select {
			case out <- l:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, s, nil
}

// license reads license id now; ErrUnknownCursor's sibling for licenses
// is sql.ErrNoRows.
func (h *Hub) license(ctx context.Context, tenant store.Tenant, id uuid.UUID) (*models.License, error) {
	sess := h.db.Session(ctx, tenant)
	defer sess.Close()
	m, err := licensing.LicensesByID(ctx, sess, []uuid.UUID{id})
	if err != nil {
		return nil, err
	}
	l := m[id]
	if l == nil || l.IsDeleted {
		return nil, sql.ErrNoRows
	}
	return l, nil
}

// AssignmentEvent is an outbox event as the AssignmentEvent the API shows.
func AssignmentEvent(ev *models.Event) (*models.AssignmentEvent, error) {
	var data map[string]any
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		return nil, err
	}
	out := &models.AssignmentEvent{TenantID: ev.TenantID, ID: ev.ID, AssignmentID: ev.SubjectID,
		Actor: ev.Actor, ActorType: ev.ActorType, OccurredAt: ev.OccurredAt, EventType: &ev.Type, Data: data}
	if ev.History != nil {
		out.Type = *ev.History
	}
	out.Changes, _ = data["changes"].(map[string]any)
	if out.Changes == nil {
		out.Changes = map[string]any{}
	}
	return out, nil
}

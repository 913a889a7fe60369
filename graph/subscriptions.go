package graph

import (
	"context"
	"database/sql"
	"errors"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/google/uuid"

	"seatgraph/internal/auth"
	"seatgraph/internal/codes"
	"seatgraph/internal/events"
	"seatgraph/internal/gid"
	"seatgraph/internal/logging"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// codeSlowSubscriber is the extensions.code of the error that ends a
// subscription whose client does not keep up.
const codeSlowSubscriber = "SLOW_SUBSCRIBER"

// Subscriptions is a connection's count of open subscriptions, bounded by
// the hub's per-connection limit; the WebSocket transport puts one in the
// connection's context (WithSubscriptions), and Drop closes the
// connection when a subscriber is too slow.
type Subscriptions struct {
	open int
	// Drop ends the whole connection (a WebSocket is closed with a code
	// saying why); nil for SSE, where the stream just ends.
	Drop func(reason string)
	mu   chan struct{}
}

type subsKey struct{}

// WithSubscriptions gives a connection's context its subscription count.
func WithSubscriptions(ctx context.Context, s *Subscriptions) context.Context {
	s.mu = make(chan struct{}, 1)
	return context.WithValue(ctx, subsKey{}, s)
}

// opened counts a new subscription on the connection, refusing it over
// the limit; the returned func counts it closed.
func opened(ctx context.Context, limit int) (func(), error) {
	s, _ := ctx.Value(subsKey{}).(*Subscriptions)
	if s == nil {
		return func() {}, nil
	}
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	if s.open >= limit {
		return nil, coded(codes.Forbidden, "too many subscriptions on this connection")
	}
	s.open++
	return func() {
		s.mu <- struct{}{}
		s.open--
		<-s.mu
	}, nil
}

func dropConnection(ctx context.Context, reason string) {
	if s, _ := ctx.Value(subsKey{}).(*Subscriptions); s != nil && s.Drop != nil {
		s.Drop(reason)
	}
}

func tenantOf(ctx context.Context) store.Tenant {
	p := auth.FromContext(ctx)
	return store.Tenant{ID: p.TenantID, AppID: p.AppID}
}

// subscribed turns a hub error at subscribe time into the caller's error.
func subscribed(err error) error {
	switch {
	case errors.Is(err, events.ErrTooMany):
		return coded(codes.Forbidden, "too many subscriptions for this tenant")
	case errors.Is(err, events.ErrUnknownCursor):
		return coded(codes.BadUserInput, "after: "+err.Error())
	case errors.Is(err, sql.ErrNoRows):
		return coded(codes.BadUserInput, "licenseId: no such license")
	}
	return err
}

// ended reports a stream that ended because its subscriber was too slow.
func ended(ctx context.Context, s *events.Stream) {
	if errors.Is(s.Err(), events.ErrSlow) {
		logging.From(ctx).InfoContext(ctx, "slow subscriber dropped")
		transport.AddSubscriptionError(ctx, coded(codeSlowSubscriber, s.Err().Error()))
		dropConnection(ctx, s.Err().Error())
	}
}

func optionalID(k gid.Kind, s *string) (*uuid.UUID, error) {
	if s == nil {
		return nil, nil
	}
	u, err := k.Parse(*s)
	return &u, err
}

// assignmentEvents streams the caller's assignment events.
func assignmentEvents(ctx context.Context, hub *events.Hub, licenseID, assigneeID, after *string) (<-chan *models.AssignmentEvent, error) {
	f := events.Filter{Assignments: true}
	var err error
	if f.LicenseID, err = optionalID(gid.License, licenseID); err != nil {
		return nil, err
	}
	if assigneeID != nil {
		kind, u, err := gid.Parse(*assigneeID)
		if err != nil {
			return nil, err
		}
		if kind != gid.Person && kind != gid.Group {
			return nil, coded(codes.BadUserInput, "assigneeId: must be a person or group id")
		}
		f.AssigneeID = &u
	}
	tenant := tenantOf(ctx)
	var from int64
	if after != nil {
		id, err := gid.Event.Parse(*after)
		if err != nil {
			return nil, err
		}
		if from, err = hub.Cursor(ctx, tenant, id); err != nil {
			return nil, subscribed(err)
		}
	} else if from, err = hub.Head(ctx, tenant); err != nil {
		return nil, err
	}
	done, err := opened(ctx, hub.Limits().PerConnection)
	if err != nil {
		return nil, err
	}
	s, err := hub.Subscribe(ctx, tenant, from, f)
	if err != nil {
		done()
		return nil, subscribed(err)
	}
	out := make(chan *models.AssignmentEvent)
	go func() {
		defer done()
		defer close(out)
		for ev := range s.C {
			ae, err := events.AssignmentEvent(ev)
			if err != nil {
				continue
			}
			select {
			case out <- ae:
			case <-ctx.Done():
				return
			}
		}
		ended(ctx, s)
	}()
	return out, nil
}

// licenseSeats streams a license as its seats change.
func licenseSeats(ctx context.Context, hub *events.Hub, licenseID string) (<-chan *models.License, error) {
	id, err := gid.License.Parse(licenseID)
	if err != nil {
		return nil, err
	}
	done, err := opened(ctx, hub.Limits().PerConnection)
	if err != nil {
		return nil, err
	}
	ls, s, err := hub.Seats(ctx, tenantOf(ctx), id)
	if err != nil {
		done()
		return nil, subscribed(err)
	}
	out := make(chan *models.License)
	go func() {
		defer done()
		defer close(out)
		for l := range ls {
			select {
			case out <- l:
			case <-ctx.Done():
				return
			}
		}
		ended(ctx, s)
	}()
	return out, nil
}

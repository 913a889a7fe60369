// Package events delivers the event outbox (written by the unit of work,
// internal/licensing/outbox.go) to its listeners: live subscriptions fed
// by PostgreSQL LISTEN/NOTIFY, and signed webhooks.
//
// Each replica holds one listener connection. A committed write notifies
// "tenant:seq" (ids only); the hub wakes that tenant's streams in this
// process, and each stream reads its new events from the outbox itself,
// under row-level security, from the last seq it delivered. So a
// notification lost while the listener reconnects costs nothing: the next
// wake (or the periodic poll) reads everything after the cursor.
package events

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"seatgraph/internal/licensing"
	"seatgraph/internal/store"
)

// Limits bound what subscribers may hold open.
type Limits struct {
	// PerTenant bounds a tenant's streams on one replica (default 500).
	PerTenant int
	// PerConnection bounds the subscriptions of one WebSocket (default 20).
	PerConnection int
	// Buffer is how many events a stream holds ready for its subscriber
	// (default 256). More wait in the outbox, not in memory.
	Buffer int
	// SlowAfter drops a subscriber that takes no event for this long while
	// its buffer is full (default 10 s): a burst larger than the buffer
	// (a group grant to a thousand members) reaches a subscriber that
	// reads, however large; one that stopped reading is let go.
	SlowAfter time.Duration
	// Poll is how often a stream reads the outbox without a notification,
	// in case one was lost (default 5 s).
	Poll time.Duration
}

// Hub fans notifications out to the streams of this replica.
type Hub struct {
	db     *store.DB
	log    *slog.Logger
	limits Limits

	start   sync.Once
	closing chan struct{}
	closed  sync.Once
	mu      sync.Mutex
	subs    map[string]map[*waiter]bool // tenant → streams
	// listeners are woken on every notification with its tenant (the
	// webhook worker).
	listeners []func(tenant string)
}

type waiter struct{ wake chan struct{} }

// NewHub returns a hub on db; its listener connection is opened on first use.
func NewHub(db *store.DB, log *slog.Logger, limits Limits) *Hub {
	if limits.PerTenant <= 0 {
		limits.PerTenant = 500
	}
	if limits.PerConnection <= 0 {
		limits.PerConnection = 20
	}
	if limits.Buffer <= 0 {
		limits.Buffer = 256
	}
	if limits.Poll <= 0 {
		limits.Poll = 5 * time.Second
	}
	if limits.SlowAfter <= 0 {
		limits.SlowAfter = 10 * time.Second
	}
	return &Hub{db: db, log: log, limits: limits, subs: map[string]map[*waiter]bool{}, closing: make(chan struct{})}
}

// Close ends every stream (their subscriptions complete), for a graceful
// shutdown: an SSE response ends, so the HTTP server need not wait for it.
func (h *Hub) Close() { h.closed.Do(func() { close(h.closing) }) }

// Limits are the hub's limits.
func (h *Hub) Limits() Limits { return h.limits }

// OnNotify registers fn to be called (on the listener's goroutine; it
// must not block) with the tenant of every notification, and starts the
// listener.
func (h *Hub) OnNotify(fn func(tenant string)) {
	h.mu.Lock()
	h.listeners = append(h.listeners, fn)
	h.mu.Unlock()
	h.ensureListening()
}

// ErrTooMany is returned when a tenant holds too many streams.
var ErrTooMany = errors.New("too many subscriptions")

func (h *Hub) join(tenant string) (*waiter, error) {
	h.ensureListening()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs[tenant]) >= h.limits.PerTenant {
		return nil, ErrTooMany
	}
	w := &waiter{wake: make(chan struct{}, 1)}
	if h.subs[tenant] == nil {
		h.subs[tenant] = map[*waiter]bool{}
	}
	h.subs[tenant][w] = true
	return w, nil
}

func (h *Hub) leave(tenant string, w *waiter) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs[tenant], w)
	if len(h.subs[tenant]) == 0 {
		delete(h.subs, tenant)
	}
}

// wake wakes the streams of tenant, or of every tenant when tenant is "".
func (h *Hub) wake(tenant string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for t, ws := range h.subs {
		if tenant != "" && t != tenant {
			continue
		}
		for w := range ws {
			select {
			case w.wake <- struct{}{}:
			default: // already due to read
			}
		}
	}
	for _, fn := range h.listeners {
		fn(tenant)
	}
}

func (h *Hub) ensureListening() {
	h.start.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		go h.listen(ctx)
		// The hub lives as long as its pool: stop listening once it closes.
		go func() {
			defer cancel()
			for range time.Tick(2 * time.Second) {
				if err := h.db.SQL().PingContext(ctx); err != nil && strings.Contains(err.Error(), "database is closed") {
					return
				}
			}
		}()
	})
}

// listen holds the replica's listener connection (taken from the pool),
// reconnecting after a failure until the pool is closed.
func (h *Hub) listen(ctx context.Context) {
	for {
		err := h.listenOnce(ctx)
		if errors.Is(err, errPoolClosed) || ctx.Err() != nil {
			return
		}
		h.log.Warn("event listener lost its connection; reconnecting", "error", err.Error())
		time.Sleep(time.Second)
	}
}

var errPoolClosed = errors.New("pool closed")

func (h *Hub) listenOnce(ctx context.Context) error {
	conn, err := h.db.SQL().Conn(ctx)
	if err != nil {
		if strings.Contains(err.Error(), "database is closed") {
			return errPoolClosed
		}
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc := store.PgxConn(dc)
		if _, err := pc.Exec(ctx, "LISTEN "+pgx.Identifier{licensing.NotifyChannel}.Sanitize()); err != nil {
			return err
		}
		// Notifications sent while this listener was away are lost: every
		// stream reads from its own cursor now.
		h.wake("")
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				return err
			}
			tenant, _, ok := cutLast(n.Payload, ":")
			if ok {
				h.wake(tenant)
			}
		}
	})
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	if _, err := strconv.ParseInt(s[i+1:], 10, 64); err != nil {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

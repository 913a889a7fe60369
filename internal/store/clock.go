package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// The database's clock is the one clock of every seat rule (SPEC §2,
// rule 8): expiry, updatedAt, waitlist order and history times. Replicas'
// clocks may disagree; the database's is one.
//
// A write reads it once (Scope.Now: now(), the transaction's start
// time, which is also what now() means in every statement of the
// transaction); licensing.Write asks for it as the transaction starts. It is not read as the transaction
// begins: the tenant is set with SET LOCAL commands (for Citus) in one
// simple-protocol statement, which can return no row. Reads judge a
// status by DB.Now, the pool's reading of the database's clock, at no
// cost per request (refreshed in the background).

// txClock is a transaction's reading of the database's clock.
type txClock struct {
	mu  sync.Mutex
	now time.Time
}

// Now is the database's clock for the scope's transaction: now(), read
// on the first call (one statement) and the same for every later one.
func (s Scope) Now(ctx context.Context) (time.Time, error) {
	c := s.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now.IsZero() {
		var now time.Time
		if err := s.idb.QueryRowContext(ctx, "SELECT now()").Scan(&now); err != nil {
			return now, err
		}
		c.now = now.UTC()
	}
	return c.now, nil
}

// Now is the database's clock for the session's reads (see DB.Now).
func (s *Session) Now() time.Time { return s.db.Now() }

// clockRefresh is how often the pool reads the database's clock again.
const clockRefresh = 10 * time.Second

// clockMaxRoundTrip is the longest round trip of a reading kept by the
// refresh: a reading's error is up to half its round trip, so a slow one
// (a loaded database or network) is dropped and the last one kept.
const clockMaxRoundTrip = 100 * time.Millisecond

// Now is the database's clock as this pool last read it, moved on by the
// time passed since on this process's monotonic clock (which a change of
// the wall clock does not move). It never reads the database itself and
// never takes a lock: Open reads the clock first (and fails if it cannot),
// a background refresh reads it every clockRefresh, and readers take the
// latest reading atomically. It never falls back to this process's wall
// clock, and never goes backwards: a new reading that puts the clock
// before a time already returned is clamped to that time. Its error is
// within half the round trip of the reading: for rules to the
// microsecond, a write uses Scope.Now.
func (db *DB) Now() time.Time { return db.clock.now(time.Now()) }

// dbClock is the pool's reading of the database's clock.
type dbClock struct {
	reading atomic.Pointer[clockReading]
	last    atomic.Int64 // the latest time Now returned, in Unix nanoseconds
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// clockReading is one reading of the database's clock.
type clockReading struct {
	db   time.Time // the database's clock, as read (mid round trip)
	read time.Time // when it was read, with this process's monotonic reading
}

// set keeps r as the latest reading.
func (c *dbClock) set(r clockReading) { c.reading.Store(&r) }

// now is the database's clock at local (a time.Now with its monotonic
// reading), never before a time it returned already.
func (c *dbClock) now(local time.Time) time.Time {
	r := c.reading.Load()
	t := r.db.Add(local.Sub(r.read))
	for {
		last := c.last.Load()
		if t.UnixNano() <= last {
			return time.Unix(0, last).UTC()
		}
		if c.last.CompareAndSwap(last, t.UnixNano()) {
			return t
		}
	}
}

// readClock reads the database's clock on a connection of its own (taken
// from the raw pool first, so waiting for it is not timed), returning the
// reading and its round trip. It is no statement of any request, so not
// counted by Statements.
func (db *DB) readClock(ctx context.Context) (clockReading, time.Duration, error) {
	conn, err := db.bun.DB.Conn(ctx)
	if err != nil {
		return clockReading{}, 0, err
	}
	defer conn.Close() //nolint:errcheck // back to the pool
	var now time.Time
	sent := time.Now()
	if err := conn.QueryRowContext(ctx, "SELECT clock_timestamp()").Scan(&now); err != nil {
		return clockReading{}, 0, err
	}
	received := time.Now()
	rtt := received.Sub(sent)
	return clockReading{db: now.UTC().Add(rtt / 2), read: received}, rtt, nil
}

// startClock reads the clock (the reading with the shortest round trip of
// three), then refreshes it every clockRefresh until stopClock.
func (db *DB) startClock(ctx context.Context) error {
	var best clockReading
	bestRTT := time.Duration(-1)
	for range 3 {
		r, rtt, err := db.readClock(ctx)
		if err != nil {
			return fmt.Errorf("read the database's clock: %w", err)
		}
		if bestRTT < 0 || rtt < bestRTT {
			best, bestRTT = r, rtt
		}
	}
	c := &db.clock
	c.set(best)
	c.stop, c.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(c.done)
		tick := time.NewTicker(clockRefresh)
		defer tick.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-tick.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			r, rtt, err := db.readClock(ctx)
			cancel()
			if err == nil && rtt <= clockMaxRoundTrip {
				c.set(r)
			}
		}
	}()
	return nil
}

// stopClock stops the refresh and waits for it to end.
func (db *DB) stopClock() {
	c := &db.clock
	c.once.Do(func() {
		if c.stop != nil {
			close(c.stop)
			<-c.done
		}
	})
}

// statementStart is when a statement sent without bun starts, for the
// query hooks' timing (as bun stamps its own); it decides no rule.
func statementStart() time.Time { return time.Now() }

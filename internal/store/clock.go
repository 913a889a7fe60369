package store

import (
	"context"
	"sync"
	"time"
)

// The database's clock is the one clock of every seat rule (SPEC §2,
// rule 8): expiry, updatedAt, waitlist order and history times. Replicas'
// clocks may disagree; the database's is one.
//
// A write reads it once, on first need (Scope.Now: now(), the
// transaction's start time, which is also what now() means in every
// statement of the transaction). It is not read as the transaction
// begins: the tenant is set with SET LOCAL commands (for Citus) in one
// simple-protocol statement, which can return no row. Reads judge a
// status by DB.Now, the pool's reading of the database's clock, at no
// cost per request.

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

// clockRefresh is how old the pool's reading of the database's clock may
// grow before DB.Now reads it again.
const clockRefresh = 10 * time.Second

// Now is the database's clock as this pool last read it, moved on by the
// time passed since on this process's monotonic clock (which a change of
// the wall clock does not move), and read again when the reading is
// older than clockRefresh; when the database cannot be read, the last
// reading moved on, or, with none, this process's clock. Its error is
// within the network's round trip: for rules to the microsecond, a write
// uses Scope.Now.
func (db *DB) Now() time.Time {
	c := &db.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tried.IsZero() || time.Since(c.tried) > clockRefresh {
		c.tried = time.Now() // a failed reading is not retried at once
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		// The raw pool: not a statement of any request, so not counted.
		var now time.Time
		sent := time.Now()
		if err := db.bun.DB.QueryRowContext(ctx, "SELECT now()").Scan(&now); err == nil {
			c.db, c.read = now.UTC().Add(time.Since(sent)/2), time.Now()
		}
	}
	if c.read.IsZero() {
		return time.Now().UTC()
	}
	return c.db.Add(time.Since(c.read))
}

// dbClock is the pool's reading of the database's clock.
type dbClock struct {
	mu   sync.Mutex
	db   time.Time // the database's clock, as read
	read time.Time // when it was read, with this process's monotonic reading
	// tried is when it was last read, or tried to be.
	tried time.Time
}

// Package clock is this process's own clock. No seat rule reads it: every
// time that decides a rule (expiry, updatedAt, waitlist order, history)
// is the database's (store.Scope.Now, store.DB.Now), so that replicas
// with skewed clocks agree. It remains for what is the replica's to
// judge, such as an API key's expiry (as a JWT's exp, with leeway), and
// tests shift it to prove that the rules do not depend on it.
package clock

import (
	"sync/atomic"
	"time"
)

var offset atomic.Int64

// Now is this process's clock.
func Now() time.Time { return time.Now().Add(time.Duration(offset.Load())) }

// Shift moves this process's clock by d, as a replica whose clock is off
// would see it, until the returned function restores it. For tests only.
func Shift(d time.Duration) (restore func()) {
	offset.Store(int64(d))
	return func() { offset.Store(0) }
}

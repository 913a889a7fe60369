package store

import (
	"context"
	"sync/atomic"
)

// Outcome records, for one request, whether any of its writes committed
// and whether one of them gave up (the database out of reach, or a lock
// not granted in time). The HTTP layer answers 503 (retry the request)
// only when nothing committed: a request whose first mutation committed
// must not be retried whole.
type Outcome struct {
	committed   atomic.Bool
	unavailable atomic.Bool
}

type outcomeKey struct{}

// WithOutcome returns ctx carrying a new, empty Outcome, and the Outcome.
func WithOutcome(ctx context.Context) (context.Context, *Outcome) {
	o := &Outcome{}
	return context.WithValue(ctx, outcomeKey{}, o), o
}

func outcomeOf(ctx context.Context) *Outcome {
	o, _ := ctx.Value(outcomeKey{}).(*Outcome)
	return o
}

// Committed reports whether a write of the request committed.
func (o *Outcome) Committed() bool { return o != nil && o.committed.Load() }

// GaveUp reports whether an operation of the request ctx gave up for want
// of the database or a lock (see MarkGaveUp).
func GaveUp(ctx context.Context) bool {
	o := outcomeOf(ctx)
	return o != nil && o.unavailable.Load()
}

// MarkGaveUp records that an operation of the request ctx gave up for
// want of the database or a lock: its later mutations do not run.
func MarkGaveUp(ctx context.Context) {
	if o := outcomeOf(ctx); o != nil {
		o.unavailable.Store(true)
	}
}

func markCommitted(ctx context.Context) {
	if o := outcomeOf(ctx); o != nil {
		o.committed.Store(true)
	}
}

// OutcomeUnknownError is a COMMIT that got no answer (the connection
// dropped while it was sent): the write may or may not have taken effect.
// It is neither retried nor reported as unavailable.
type OutcomeUnknownError struct{ err error }

func (e *OutcomeUnknownError) Error() string {
	return "store: commit not confirmed, outcome unknown: " + e.err.Error()
}

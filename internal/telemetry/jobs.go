package telemetry

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// ErrSkipped is what a job run returns (wrapped) when it did not do the
// work because another replica was doing it: the run is counted as
// skipped, and it is not a success.
var ErrSkipped = errors.New("job skipped")

// RunJob runs fn every interval until ctx ends (first at once, never again
// once ctx has ended), counting each run by outcome (ok, failed, skipped),
// its duration, the records it processed, and the time of the last run
// that did the work without error; a failure is logged. fn returns how
// many records it processed, or an error wrapping ErrSkipped.
func RunJob(ctx context.Context, m *Metrics, name string, interval time.Duration, log *slog.Logger,
	fn func(context.Context) (int, error)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for ctx.Err() == nil {
		start := time.Now()
		n, err := fn(ctx)
		switch {
		case errors.Is(err, ErrSkipped):
			m.jobRuns.WithLabelValues(name, "skipped").Inc()
		case err != nil && ctx.Err() == nil:
			log.Error("job failed", "job", name, "error", err.Error())
			m.jobRuns.WithLabelValues(name, "failed").Inc()
		case err == nil:
			m.jobRuns.WithLabelValues(name, "ok").Inc()
			m.jobItems.WithLabelValues(name).Add(float64(n))
			m.jobSuccess.WithLabelValues(name).SetToCurrentTime()
			if n > 0 {
				log.Info("job", "job", name, "processed", n)
			}
		}
		m.jobDuration.WithLabelValues(name).Observe(time.Since(start).Seconds())
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

package telemetry

import (
	"context"
	"log/slog"
	"time"
)

// RunJob runs fn every interval until ctx ends (first at once), counting
// each run by outcome, its duration, the records it processed, and the
// time of the last run without error; a failure is logged. fn returns how
// many records it processed.
func RunJob(ctx context.Context, m *Metrics, name string, interval time.Duration, log *slog.Logger,
	fn func(context.Context) (int, error)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		start := time.Now()
		n, err := fn(ctx)
		switch {
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
			return
		case <-tick.C:
		}
	}
}

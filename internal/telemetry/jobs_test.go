package telemetry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"seatgraph/internal/telemetry"
)

// TestRunJob: a background job's runs are counted by outcome (ok,
// failed, skipped: another replica did the work), with the records
// processed and the time of the last run that did the work; a failure is
// logged once. A run that is skipped does not count as a success.
func TestRunJob(t *testing.T) {
	m := telemetry.NewMetrics(telemetry.MetricsOptions{})
	var logged strings.Builder
	log := slog.New(slog.NewJSONHandler(&logged, nil))
	skipped := fmt.Errorf("%w: another replica holds the lease", telemetry.ErrSkipped)
	run := func(outcomes ...func() (int, error)) {
		ctx, cancel := context.WithCancel(t.Context())
		runs := 0
		telemetry.RunJob(ctx, m, "expiry", time.Nanosecond, log, func(ctx context.Context) (int, error) {
			runs++
			if runs >= len(outcomes) {
				cancel()
				if runs > len(outcomes) {
					return 0, nil
				}
			}
			return outcomes[runs-1]()
		})
		if runs != len(outcomes) {
			t.Fatalf("the job ran %d times, want %d", runs, len(outcomes))
		}
	}
	run(func() (int, error) { return 0, skipped })
	if text := scrape(t, m); strings.Contains(text, "seatgraph_job_last_success_timestamp_seconds{") {
		t.Errorf("a skipped run set the time of the last success")
	}
	run(func() (int, error) { return 3, nil },
		func() (int, error) { return 0, errors.New("database unreachable") },
		func() (int, error) { return 0, skipped },
		func() (int, error) { return 1, nil })
	text := scrape(t, m)
	for _, want := range []string{
		`seatgraph_job_runs_total{job="expiry",outcome="ok"} 2`,
		`seatgraph_job_runs_total{job="expiry",outcome="failed"} 1`,
		`seatgraph_job_runs_total{job="expiry",outcome="skipped"} 2`,
		`seatgraph_job_items_total{job="expiry"} 4`,
		`seatgraph_job_last_success_timestamp_seconds{job="expiry"} `,
		`seatgraph_job_duration_seconds_count{job="expiry"} 5`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Count(logged.String(), `"msg":"job failed"`) != 1 {
		t.Errorf("want one failure logged: %s", logged.String())
	}
}

// TestRunJobStops: once its context is cancelled the job does not run
// again, even when its next tick is already due.
func TestRunJobStops(t *testing.T) {
	m := telemetry.NewMetrics(telemetry.MetricsOptions{})
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	for range 50 {
		ctx, cancel := context.WithCancel(t.Context())
		runs := 0
		telemetry.RunJob(ctx, m, "expiry", time.Nanosecond, log, func(context.Context) (int, error) {
			runs++
			cancel()
			return 0, nil
		})
		if runs != 1 {
			t.Fatalf("the job ran %d times after it was stopped in its first run, want once", runs)
		}
	}
}

// TestTracingOff: without an OTLP endpoint there is no tracing at all.
func TestTracingOff(t *testing.T) {
	env := map[string]string{"OTEL_SERVICE_NAME": "seatgraph"}
	tr, err := telemetry.TracingFromEnv(t.Context(), func(k string) string { return env[k] })
	if err != nil || tr != nil || tr.Provider() != nil {
		t.Fatalf("tracing set up without an endpoint: %v, %v", tr, err)
	}
	env["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:4318"
	env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc"
	if _, err := telemetry.TracingFromEnv(t.Context(), func(k string) string { return env[k] }); err == nil ||
		!strings.Contains(err.Error(), "http/protobuf") {
		t.Errorf("an unsupported protocol should be refused with what to set: %v", err)
	}
	env["OTEL_SDK_DISABLED"] = "true"
	if tr, err := telemetry.TracingFromEnv(t.Context(), func(k string) string { return env[k] }); tr != nil || err != nil {
		t.Errorf("OTEL_SDK_DISABLED=true should turn tracing off: %v, %v", tr, err)
	}
}

package telemetry_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"seatgraph/internal/telemetry"
)

// TestRunJob: a background job's runs are counted by outcome, with the
// records processed and the time of the last success; a failure is
// logged once.
func TestRunJob(t *testing.T) {
	m := telemetry.NewMetrics(telemetry.MetricsOptions{})
	var logged strings.Builder
	log := slog.New(slog.NewJSONHandler(&logged, nil))
	ctx, cancel := context.WithCancel(t.Context())
	runs := 0
	telemetry.RunJob(ctx, m, "expiry", time.Millisecond, log, func(ctx context.Context) (int, error) {
		runs++
		switch runs {
		case 1:
			return 3, nil
		case 2:
			return 0, errors.New("database unreachable")
		}
		cancel()
		return 0, ctx.Err()
	})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	text := string(body)
	for _, want := range []string{
		`seatgraph_job_runs_total{job="expiry",outcome="ok"} 1`,
		`seatgraph_job_runs_total{job="expiry",outcome="failed"} 1`,
		`seatgraph_job_items_total{job="expiry"} 3`,
		`seatgraph_job_last_success_timestamp_seconds{job="expiry"} `,
		`seatgraph_job_duration_seconds_count{job="expiry"} 3`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Count(logged.String(), `"msg":"job failed"`) != 1 {
		t.Errorf("want one failure logged: %s", logged.String())
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

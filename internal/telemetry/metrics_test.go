package telemetry_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"seatgraph/internal/telemetry"
)

func scrape(t *testing.T, m *telemetry.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// TestOperationNamesBounded: with a configured list only its names are
// labelled; without one, the first names of authenticated callers up to
// the cap; callers without credentials never add a name.
func TestOperationNamesBounded(t *testing.T) {
	op := func(name, tenant string) telemetry.Summary {
		return telemetry.Summary{Operation: name, OperationType: "query", Tenant: tenant}
	}
	listed := telemetry.NewMetrics(telemetry.MetricsOptions{Operations: []string{"Licenses"}})
	listed.ObserveOperation(op("Licenses", "t"), 200, time.Millisecond)
	listed.ObserveOperation(op("Surprise", "t"), 200, time.Millisecond)
	text := scrape(t, listed)
	for _, want := range []string{`operation="Licenses",outcome="ok",type="query"} 1`, `operation="other",outcome="ok",type="query"} 1`} {
		if !strings.Contains(text, "seatgraph_graphql_operation_duration_seconds_count{"+want) {
			t.Errorf("listed names: /metrics lacks %s", want)
		}
	}

	capped := telemetry.NewMetrics(telemetry.MetricsOptions{MaxOperationNames: 1})
	capped.ObserveOperation(op("Sneaky", ""), 401, time.Millisecond)
	capped.ObserveOperation(op("First", "t"), 200, time.Millisecond)
	capped.ObserveOperation(op("Second", "t"), 200, time.Millisecond)
	text = scrape(t, capped)
	if strings.Contains(text, `"Sneaky"`) || strings.Contains(text, `"Second"`) || !strings.Contains(text, `operation="First"`) {
		t.Errorf("capped names: want First only, got\n%s", text)
	}
}

// TestLatencyBuckets: latencies up to the request timeout (15 s by
// default) and beyond land in buckets of their own, not all in +Inf.
func TestLatencyBuckets(t *testing.T) {
	m := telemetry.NewMetrics(telemetry.MetricsOptions{})
	m.ObserveOperation(telemetry.Summary{Operation: "Slow", OperationType: "query", Tenant: "t"}, 200, 12*time.Second)
	text := scrape(t, m)
	for _, want := range []string{`le="7.5"} 0`, `le="15"} 1`, `le="30"} 1`} {
		if !strings.Contains(text, `seatgraph_graphql_operation_duration_seconds_bucket{operation="Slow",outcome="ok",type="query",`+want) {
			t.Errorf("/metrics lacks the bucket %s", want)
		}
	}
}

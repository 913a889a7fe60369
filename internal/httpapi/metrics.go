package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"seatgraph/internal/store"
)

// metrics are the Prometheus series of one handler, in a registry of its
// own (several handlers live in one test process).
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// routes are the paths metrics are labelled with; any other is "other",
// so a caller cannot grow the series without bound.
var routes = map[string]bool{"/query": true, "/": true, "/healthz": true, "/readyz": true, "/metrics": true}

func newMetrics(db *store.DB) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seatgraph_http_requests_total", Help: "HTTP requests by path, method and status.",
		}, []string{"path", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "seatgraph_http_request_duration_seconds", Help: "HTTP request latency by path.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 10),
		}, []string{"path"}),
	}
	m.registry.MustRegister(m.requests, m.duration,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db.SQL(), "seatgraph"),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "seatgraph_sql_statements_total", Help: "SQL statements sent, BEGIN and COMMIT included.",
		}, func() float64 { return float64(db.Statements()) }),
	)
	return m
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// observe records one finished request.
func (m *metrics) observe(r *http.Request, status int, took time.Duration) {
	path := r.URL.Path
	if !routes[path] {
		path = "other"
	}
	m.requests.WithLabelValues(path, r.Method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(path).Observe(took.Seconds())
}

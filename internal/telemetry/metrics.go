package telemetry

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"seatgraph/internal/codes"
)

// DefaultMaxOperationNames is how many distinct operation names get series
// of their own when MetricsOptions leave it unset.
const DefaultMaxOperationNames = 100

// MetricsOptions bound the label values that come from callers.
type MetricsOptions struct {
	// Operations, when not empty, are the only operation names labelled by
	// name; every other is "other".
	Operations []string
	// MaxOperationNames is, without Operations, how many distinct
	// operation names (the first that authenticated callers send) are
	// labelled by name; the rest are "other".
	MaxOperationNames int
}

// Metrics are seatgraph's Prometheus series, in a registry of their own
// (several servers live in one test process). Every label value is from a
// bounded set, so no caller can grow the series.
type Metrics struct {
	registry *prometheus.Registry

	httpRequests  *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec
	operations    *prometheus.HistogramVec
	graphqlErrors *prometheus.CounterVec
	sqlDuration   *prometheus.HistogramVec
	loaderBatch   *prometheus.HistogramVec
	loaderWaits   *prometheus.CounterVec
	seats         *prometheus.CounterVec
	jobRuns       *prometheus.CounterVec
	jobDuration   *prometheus.HistogramVec
	jobItems      *prometheus.CounterVec
	jobSuccess    *prometheus.GaugeVec

	opNames *bounded
	codes   *bounded
	loaders *bounded
}

// NewMetrics makes the registry with every series seatgraph exports, the
// Go runtime's and the process's.
func NewMetrics(opts MetricsOptions) *Metrics {
	if opts.MaxOperationNames <= 0 {
		opts.MaxOperationNames = DefaultMaxOperationNames
	}
	// 1 ms … 3.8 s, then up to the request timeout (15 s by default) and
	// twice it: a slow request is not lost in +Inf.
	latency := append(prometheus.ExponentialBuckets(0.001, 2.5, 10), 7.5, 15, 30)
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seatgraph_http_requests_total", Help: "HTTP requests by path, method and status.",
		}, []string{"path", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "seatgraph_http_request_duration_seconds", Help: "HTTP request latency by path.", Buckets: latency,
		}, []string{"path"}),
		operations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "seatgraph_graphql_operation_duration_seconds",
			Help:    "GraphQL operations (the _count is the number) by name, type and outcome (ok, client_error, server_error).",
			Buckets: latency,
		}, []string{"operation", "type", "outcome"}),
		graphqlErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seatgraph_graphql_errors_total", Help: "GraphQL errors returned, by extensions.code.",
		}, []string{"code"}),
		sqlDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "seatgraph_sql_statement_duration_seconds",
			Help:    "SQL statement latency by kind (SELECT, INSERT, UPDATE, DELETE, BEGIN, COMMIT, ROLLBACK, OTHER).",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2.5, 10), // 0.2 ms … 0.76 s
		}, []string{"statement"}),
		loaderBatch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "seatgraph_loader_batch_size",
			Help:    "Keys per dataloader batch (one SQL read each), by loader.",
			Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000},
		}, []string{"loader"}),
		loaderWaits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seatgraph_loader_timer_batches_total",
			Help: "Per-parent list batches that ran when their wait (5 ms) ran out rather than as soon as every item of their page had asked or finished, by loader.",
		}, []string{"loader"}),
		seats: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seatgraph_seat_requests_total",
			Help: "Committed seat requests by outcome: granted, waitlisted, seat_limit_reached.",
		}, []string{"outcome"}),
		jobRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seatgraph_job_runs_total", Help: "Background job runs by job and outcome (ok, failed, skipped: another replica was running it).",
		}, []string{"job", "outcome"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "seatgraph_job_duration_seconds", Help: "Background job run time.", Buckets: latency,
		}, []string{"job"}),
		jobItems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seatgraph_job_items_total", Help: "Records a background job processed (for expiry: grants expired).",
		}, []string{"job"}),
		jobSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "seatgraph_job_last_success_timestamp_seconds", Help: "When a background job last ran without error.",
		}, []string{"job"}),
		opNames: newBounded(opts.MaxOperationNames, opts.Operations...),
		codes:   newBounded(50),
		loaders: newBounded(50),
	}
	m.registry.MustRegister(m.httpRequests, m.httpDuration, m.operations, m.graphqlErrors, m.sqlDuration,
		m.loaderBatch, m.loaderWaits, m.seats, m.jobRuns, m.jobDuration, m.jobItems, m.jobSuccess, buildInfo(),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// buildInfo is seatgraph_build_info, always 1, labelled with the binary's
// version, VCS revision and Go version.
func buildInfo() prometheus.Collector {
	version, revision := "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "seatgraph_build_info", Help: "Always 1; the labels describe the running binary.",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "go_version": runtime.Version()},
	})
	g.Set(1)
	return g
}

// WatchPool adds the connection pool's gauges and the statement counter
// (statements returns it). Calling it again for the same pool does nothing.
func (m *Metrics) WatchPool(db *sql.DB, statements func() int64) {
	m.registerOnce(collectors.NewDBStatsCollector(db, "seatgraph"),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "seatgraph_sql_statements_total", Help: "SQL statements sent, BEGIN and COMMIT included.",
		}, func() float64 { return float64(statements()) }))
}

// WatchJobsPool adds the gauges of the background jobs' own pool, as
// go_sql_*{db_name="seatgraph_jobs"} (its statements are in the statement
// histogram, not in seatgraph_sql_statements_total, the requests' count).
// Calling it again for the same pool does nothing.
func (m *Metrics) WatchJobsPool(db *sql.DB) {
	m.registerOnce(collectors.NewDBStatsCollector(db, "seatgraph_jobs"))
}

// registerOnce registers cs, leaving alone those registered already.
func (m *Metrics) registerOnce(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := m.registry.Register(c); err != nil && !errors.As(err, &prometheus.AlreadyRegisteredError{}) {
			panic(err)
		}
	}
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// knownMethods are the HTTP methods labelled as themselves; Go accepts
// any token as a method, so every other one is "other".
var knownMethods = map[string]bool{http.MethodGet: true, http.MethodHead: true, http.MethodPost: true,
	http.MethodPut: true, http.MethodPatch: true, http.MethodDelete: true, http.MethodConnect: true,
	http.MethodOptions: true, http.MethodTrace: true}

// Method is an HTTP method as metrics and span names carry it: one of the
// nine standard methods, else "other".
func Method(method string) string {
	if !knownMethods[method] {
		return "other"
	}
	return method
}

// ObserveHTTP records one answered HTTP request; route is its bounded
// path label (a known route or "other").
func (m *Metrics) ObserveHTTP(route, method string, status int, took time.Duration) {
	method = Method(method)
	if status < 100 || status > 599 {
		status = 0
	}
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(took.Seconds())
}

// ObserveOperation records one finished GraphQL request: its operation,
// and the errors it answered by code.
func (m *Metrics) ObserveOperation(s Summary, status int, took time.Duration) {
	name := "unknown" // the request never reached a parsed operation
	switch {
	case s.OperationType == "":
	case s.Operation == "":
		name = "anonymous"
	case s.Tenant == "":
		// Callers without credentials do not get to fill the known names.
		name = "other"
	default:
		name = m.opNames.label(s.Operation)
	}
	typ := s.OperationType
	if typ == "" {
		typ = "unknown"
	}
	m.operations.WithLabelValues(name, typ, Outcome(s, status)).Observe(took.Seconds())
	// The errors the client saw: after a timeout, the timeout's one answer.
	if s.TimeoutCode != "" {
		m.graphqlErrors.WithLabelValues(m.codes.label(s.TimeoutCode)).Inc()
		return
	}
	for code, n := range s.ErrorCodes {
		m.graphqlErrors.WithLabelValues(m.codes.label(code)).Add(float64(n))
	}
}

// Outcome classes a finished request: server_error when the server failed
// (a 5xx status or an INTERNAL_SERVER_ERROR / SERVICE_UNAVAILABLE error),
// client_error when the request was refused or had other errors, else ok.
// Business problems in a mutation's userErrors are an ok outcome.
func Outcome(s Summary, status int) string {
	switch {
	case status >= 500 || s.ErrorCodes[codes.Internal] > 0 || s.ErrorCodes[codes.ServiceUnavailable] > 0:
		return "server_error"
	case status >= 400 || s.Errors > 0:
		return "client_error"
	}
	return "ok"
}

// Seat outcomes counted by CountSeats.
const (
	SeatGranted      = "granted"
	SeatWaitlisted   = "waitlisted"
	SeatLimitReached = "seat_limit_reached"
)

// CountSeats counts n committed seat requests of the request in ctx with
// outcome (one of the Seat constants).
func CountSeats(ctx context.Context, outcome string, n int) {
	if r := From(ctx); r != nil && r.metrics != nil && n > 0 {
		r.metrics.seats.WithLabelValues(outcome).Add(float64(n))
	}
}

// bounded labels values by themselves for the first n distinct values
// seen, and "other" after; given a fixed list, only the values listed.
type bounded struct {
	mu   sync.Mutex
	n    int
	seen map[string]bool
}

func newBounded(n int, fixed ...string) *bounded {
	b := &bounded{n: n, seen: map[string]bool{}}
	for _, v := range fixed {
		b.seen[v] = true
	}
	if len(fixed) > 0 {
		b.n = len(b.seen)
	}
	return b
}

func (b *bounded) label(v string) string {
	if len(v) > 64 {
		return "other"
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen[v] {
		return v
	}
	if len(b.seen) >= b.n {
		return "other"
	}
	b.seen[v] = true
	return v
}

// Package telemetry is seatgraph's observability: each request's record
// (operation, caller, error codes, SQL time) that its one log line and the
// Prometheus metrics are made from, the metrics themselves, the SQL query
// hook, loader batch spans and counts, and OpenTelemetry tracing, which is
// off (and nothing is instrumented) unless an OTLP endpoint is configured.
package telemetry

import (
	"context"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Request is what one HTTP request did, filled in by the layers it passes
// through. Every method is safe on a nil Request (work outside a
// request): it records nothing.
type Request struct {
	ID      string
	metrics *Metrics

	mu         sync.Mutex
	operation  string
	opType     string
	tenant     string
	app        string
	subject    string
	codes      map[string]int
	statements int
	sqlTime    time.Duration
	complexity int
	// timeoutCode is the error code of the timeout's answer, "" when the
	// request did not time out.
	timeoutCode string
}

type ctxKey struct{}

// Begin starts the record of a request with id, counted into m (which may
// be nil).
func Begin(ctx context.Context, id string, m *Metrics) (context.Context, *Request) {
	r := &Request{ID: id, metrics: m}
	return context.WithValue(ctx, ctxKey{}, r), r
}

// From returns the request's record, or nil outside a request.
func From(ctx context.Context) *Request {
	r, _ := ctx.Value(ctxKey{}).(*Request)
	return r
}

// SetOperation names the request's GraphQL operation and its type
// (query, mutation, subscription); an anonymous operation has name "".
// The name comes from the caller: it is kept as valid UTF-8 and at most
// maxName bytes (see OperationName).
func (r *Request) SetOperation(name, typ string, complexity int) {
	if r == nil {
		return
	}
	name = OperationName(name)
	r.mu.Lock()
	r.operation, r.opType, r.complexity = name, typ, complexity
	r.mu.Unlock()
}

// maxName is the most bytes of an operation name that logs and spans
// carry.
const maxName = 64

// OperationName is a caller's operation name fit for logs and spans:
// invalid UTF-8 replaced (the OTLP exporter drops a whole batch of spans
// over one invalid string), and a name over maxName bytes cut on a
// character boundary, with "…".
func OperationName(name string) string {
	return truncate(strings.ToValidUTF8(name, "\uFFFD"), maxName)
}

// truncate cuts s to at most n bytes on a character boundary and marks the
// cut with "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// SetCaller records who called: tenant, app ("" for none) and subject.
func (r *Request) SetCaller(tenant, app, subject string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.tenant, r.app, r.subject = tenant, app, subject
	r.mu.Unlock()
}

// AddError counts one error of the response by its extensions.code. The
// error metric counts them when the request ends (ObserveOperation).
func (r *Request) AddError(code string) {
	if r == nil {
		return
	}
	if code == "" {
		code = "NONE"
	}
	r.mu.Lock()
	if r.codes == nil {
		r.codes = map[string]int{}
	}
	r.codes[code]++
	r.mu.Unlock()
}

// TimedOut records that the request's answer was the timeout's, with the
// error code its body carries. The handler goes on until it notices; the
// errors it produces after the answer reach the request's log line but
// not the error metric, as no client saw them.
func (r *Request) TimedOut(code string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.timeoutCode = code
	r.mu.Unlock()
}

func (r *Request) addStatement(took time.Duration) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.statements++
	r.sqlTime += took
	r.mu.Unlock()
}

// Summary is a finished request's record.
type Summary struct {
	Operation, OperationType string
	Tenant, App, Subject     string
	ErrorCodes               map[string]int
	Errors                   int
	Statements               int
	SQLTime                  time.Duration
	Complexity               int
	// TimeoutCode is the error code of the timeout's answer when the
	// request timed out (see TimedOut), else "".
	TimeoutCode string
}

// Summary returns what the request recorded (nothing for a nil Request).
func (r *Request) Summary() Summary {
	if r == nil {
		return Summary{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Summary{Operation: r.operation, OperationType: r.opType, Tenant: r.tenant, App: r.app,
		Subject: r.subject, Statements: r.statements, SQLTime: r.sqlTime, Complexity: r.complexity,
		TimeoutCode: r.timeoutCode}
	if len(r.codes) > 0 {
		s.ErrorCodes = make(map[string]int, len(r.codes))
		for c, n := range r.codes {
			s.ErrorCodes[c] = n
			s.Errors += n
		}
	}
	return s
}

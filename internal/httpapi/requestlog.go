package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"seatgraph/internal/logging"
	"seatgraph/internal/telemetry"
)

// requestLog gives every request an id (X-Request-ID, kept when the
// caller sends a sane one), a logger carrying it and a telemetry record,
// counts it in the metrics and, once its work is over, logs it in one
// line: operation, caller, status, duration, error codes, SQL statements
// and time, the trace id when traced, and the problems logged on the way
// (folded, with counts). A panic below it still gets its line (status
// 500), then goes on to net/http.
func requestLog(log *slog.Logger, m *telemetry.Metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if id == "" || len(id) > 64 || !printable(id) {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-ID", id)
		l, problems := logging.Folding(log, slog.String("request_id", id))
		ctx, req := telemetry.Begin(logging.With(r.Context(), l), id, m)
		if span := trace.SpanFromContext(ctx); span.IsRecording() {
			span.SetAttributes(attribute.String("seatgraph.request_id", id))
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		defer func() {
			if v := recover(); v != nil {
				rec.status = http.StatusInternalServerError
				l.ErrorContext(ctx, "handler panicked", "panic", fmt.Sprint(v))
				defer panic(v)
			}
			m.ObserveHTTP(route(r), r.Method, rec.status, time.Since(start))
			// The handler, timed out or not, has returned: the line tells
			// the whole of what it did.
			logRequest(ctx, log, id, problems, m, r, rec.status, start, req)
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
	})
}

// logRequest writes the request's one line (request id first, as on the
// request's other lines) and observes its operation.
func logRequest(ctx context.Context, log *slog.Logger, id string, problems *logging.Problems, m *telemetry.Metrics,
	r *http.Request, status int, start time.Time, req *telemetry.Request) {
	took := time.Since(start)
	s := req.Summary()
	if r.URL.Path == "/query" {
		m.ObserveOperation(s, status, took)
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	path := r.URL.Path
	if len(path) > 100 {
		path = path[:100] + "…"
	}
	attrs := []slog.Attr{slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", path),
		slog.Int("status", status), slog.Float64("duration_ms", float64(took.Microseconds())/1000)}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() && sc.IsSampled() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
	}
	if s.OperationType != "" || s.Operation != "" {
		attrs = append(attrs, slog.String("operation", s.Operation))
	}
	if s.OperationType != "" {
		attrs = append(attrs, slog.String("operation_type", s.OperationType))
		if s.Complexity > 0 {
			attrs = append(attrs, slog.Int("complexity", s.Complexity))
		}
	}
	if s.Tenant != "" {
		attrs = append(attrs, slog.String("tenant", s.Tenant), slog.String("subject", s.Subject))
		if s.App != "" {
			attrs = append(attrs, slog.String("app", s.App))
		}
	}
	if s.TimeoutCode != "" {
		attrs = append(attrs, slog.Bool("timed_out", true))
	}
	if s.Errors > 0 {
		attrs = append(attrs, slog.Int("errors", s.Errors), slog.Any("error_codes", s.ErrorCodes))
	}
	if s.Statements > 0 {
		attrs = append(attrs, slog.Int("sql_statements", s.Statements),
			slog.Float64("sql_ms", float64(s.SQLTime.Microseconds())/1000))
	}
	if a, ok := problems.Attr(); ok {
		attrs = append(attrs, a)
	}
	// The record without the caller's PC (slog.Logger's methods walk the
	// stack for it): the line's source would be this function anyway.
	ctx, level = context.WithoutCancel(ctx), problems.Level(level)
	if h := log.Handler(); h.Enabled(ctx, level) {
		rec := slog.NewRecord(time.Now(), level, "request", 0)
		rec.AddAttrs(attrs...)
		_ = h.Handle(ctx, rec)
	}
}

// printable reports whether s is plain printable ASCII, fit for a log line.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

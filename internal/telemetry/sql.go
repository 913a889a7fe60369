package telemetry

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/DataDog/go-sqllexer"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"seatgraph/internal/logging"
	"seatgraph/internal/store"
)

// QueryHook is the bun query hook that observes every statement: into the
// SQL latency histogram, into the request's statement count and SQL time,
// when the request's logger is at debug level into one log line per
// statement, and when the request is traced into a span (kind client)
// with the statement's text without values and its rows.
//
// bunotel was tried for the spans: its text "without values" is bun's
// query rendered with a no-op formatter, which prints every subquery (the
// loaders' LATERAL batches, the writes' CTEs) as "?"; otelpgx, below bun,
// sees the values bun has already inlined. So the hook makes the span
// itself and takes the values out of the sent text with go-sqllexer.
type QueryHook struct {
	m      *Metrics
	tracer trace.Tracer // nil: tracing off
}

// QueryHooks are the store's query hooks observing into m, tracing when t
// is not nil.
func QueryHooks(m *Metrics, t *Tracing) []bun.QueryHook {
	h := &QueryHook{m: m}
	if tp := t.Provider(); tp != nil {
		h.tracer = tp.Tracer(instrumentation)
	}
	return []bun.QueryHook{h}
}

var _ bun.QueryHook = (*QueryHook)(nil)

type sqlSpanKey struct{}

// BeforeQuery starts the statement's span when the request is traced. The
// span goes to AfterQuery in the event, not in the context: a statement
// has no children, and bun keeps BEGIN's context for the transaction's
// COMMIT, which would otherwise nest under BEGIN.
func (h *QueryHook) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	if h.tracer == nil || !trace.SpanFromContext(ctx).SpanContext().IsSampled() {
		return ctx
	}
	_, span := h.tracer.Start(ctx, "sql "+statementKind(e), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(e.StartTime))
	if e.Stash == nil {
		e.Stash = map[any]any{}
	}
	e.Stash[sqlSpanKey{}] = span
	return ctx
}

// AfterQuery observes the finished statement.
func (h *QueryHook) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	took := time.Since(e.StartTime)
	kind := statementKind(e)
	if h.m != nil {
		h.m.sqlDuration.WithLabelValues(kind).Observe(took.Seconds())
	}
	From(ctx).addStatement(took)
	span, _ := e.Stash[sqlSpanKey{}].(trace.Span)
	log := logging.From(ctx)
	debug := log.Enabled(ctx, slog.LevelDebug)
	if span == nil && !debug {
		return
	}
	text := StatementText(e.Query)
	rows := int64(-1)
	if e.Result != nil {
		if n, err := e.Result.RowsAffected(); err == nil {
			rows = n
		}
	}
	if span != nil {
		attrs := []attribute.KeyValue{attribute.String("db.system.name", "postgresql"),
			attribute.String("db.operation.name", kind), attribute.String("db.query.text", text)}
		if rows >= 0 {
			attrs = append(attrs, attribute.Int64("db.response.returned_rows", rows))
		}
		if e.Err != nil && !ignorable(e.Err) {
			state, desc := sqlError(e.Err)
			if state != "" {
				attrs = append(attrs, attribute.String("db.response.status_code", state))
			}
			span.SetStatus(codes.Error, desc)
		}
		span.SetAttributes(attrs...)
		span.End()
	}
	if debug {
		attrs := []slog.Attr{slog.String("statement", text), slog.Float64("duration_ms", float64(took.Microseconds())/1000)}
		if rows >= 0 {
			attrs = append(attrs, slog.Int64("rows", rows))
		}
		if e.Err != nil {
			_, desc := sqlError(e.Err)
			attrs = append(attrs, slog.String("error", desc))
		}
		log.LogAttrs(ctx, slog.LevelDebug, "sql", attrs...)
	}
}

// ignorable errors are answers, not failures: no row found, or a
// transaction already ended.
func ignorable(err error) bool {
	return errors.Is(err, sql.ErrNoRows) || errors.Is(err, sql.ErrTxDone)
}

// sqlError describes a failed statement without its message, which may
// quote the values it refused (22P02 invalid input syntax for type uuid:
// "…"): PostgreSQL's SQLSTATE, or a fixed description of an error that
// did not come from PostgreSQL.
func sqlError(err error) (state, desc string) {
	var pg *pgconn.PgError
	switch {
	case errors.As(err, &pg):
		return pg.Code, "SQLSTATE " + pg.Code
	case errors.Is(err, context.Canceled):
		return "", "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "", "deadline exceeded"
	case errors.Is(err, sql.ErrNoRows):
		return "", "no rows"
	case errors.Is(err, sql.ErrTxDone):
		return "", "transaction already ended"
	case errors.Is(err, driver.ErrBadConn):
		return "", "bad connection"
	}
	return "", "client error (not from PostgreSQL)"
}

// statementKind is the statement's bounded label.
func statementKind(e *bun.QueryEvent) string {
	switch op := e.Operation(); op {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "BEGIN", "COMMIT", "ROLLBACK":
		return op
	}
	return "OTHER"
}

var obfuscator = sqllexer.NewObfuscator()

// StatementText is the statement as sent with its values (string and
// number literals: bun inlines the callers' values when it formats a
// query) replaced by "?", so that logs and traces carry no callers' data.
func StatementText(query string) string {
	const limit = 4000
	s := obfuscator.Obfuscate(store.Text(query), sqllexer.WithDBMS(sqllexer.DBMSPostgres))
	s = strings.Join(strings.Fields(s), " ")
	return truncate(s, limit)
}

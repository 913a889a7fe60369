// Package httpapi assembles seatgraph's HTTP surface: the GraphQL endpoint
// behind its middleware (request id and logs, limits, credentials, the
// per-request session and loaders), the playground, and health checks.
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/uptrace/bun/migrate"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"seatgraph/graph"
	"seatgraph/internal/auth"
	"seatgraph/internal/codes"
	"seatgraph/internal/events"
	"seatgraph/internal/limits"
	"seatgraph/internal/loaders"
	"seatgraph/internal/logging"
	"seatgraph/internal/playground"
	"seatgraph/internal/store"
	"seatgraph/internal/telemetry"
	"seatgraph/internal/webhooks"
	"seatgraph/migrations"
)

// Options are the HTTP-level settings.
type Options struct {
	Playground bool
	// PlaygroundHeaders, when set, gives the headers the playground's
	// Headers tab starts with (a development token under DEV_MODE).
	PlaygroundHeaders func() (map[string]string, error)
	Introspection     bool
	RequestTimeout    time.Duration
	// MaxBodyBytes bounds a request body (default 1 MiB); more is 413.
	MaxBodyBytes int64
	// FieldSuggestions lets validation errors suggest field, argument,
	// type and enum names; it reveals the schema, so it is off in production.
	FieldSuggestions bool
	// MaxTokens bounds the tokens the parser reads (default 10000).
	MaxTokens int
	// MaxRepeatedFields bounds the fields asked for under one name in one
	// place of the response (default 100; see limits.Fields).
	MaxRepeatedFields int
	// Limits bound depth, aliases, page sizes and complexity.
	Limits limits.Limits
	// Debug serves GET /debug/statements, the pool's SQL statement count,
	// so that tests from outside the process (e2e/) can prove batching.
	Debug bool
	// Source is the provenance tag of records whose input names none.
	Source string
	// Metrics receives the server's Prometheus series; nil makes a registry
	// of the handler's own (then SQL latency is not measured: that needs
	// the store opened with telemetry.QueryHooks of the same Metrics).
	Metrics *telemetry.Metrics
	// MaxOperationNames bounds the operation names of a registry New
	// makes (default telemetry.DefaultMaxOperationNames).
	MaxOperationNames int
	// Tracing, when not nil, traces requests (W3C traceparent accepted).
	Tracing *telemetry.Tracing
	// CORSOrigins are the browser origins allowed to call /query from
	// another origin (cors.go); none by default. Nothing else is open to
	// other origins. No wildcards (config refuses them).
	CORSOrigins []string
	// Events feeds the subscriptions (a hub on db when nil).
	Events *events.Hub
	// StreamRecheck is how often a subscription's credentials are
	// checked again (1 minute when zero); see watchCredentials.
	StreamRecheck time.Duration
	// WebhookAllowPrivate lets webhook endpoints be private addresses.
	WebhookAllowPrivate bool
}

// routes are the paths metrics and spans are labelled with; any other is
// "other", so a caller cannot grow the series without bound.
var routes = map[string]bool{"/query": true, "/": true, "/healthz": true, "/readyz": true, "/metrics": true,
	"/debug/statements": true, "/export/assignments.csv": true}

func route(r *http.Request) string {
	switch {
	case routes[r.URL.Path]:
		return r.URL.Path
	case strings.HasPrefix(r.URL.Path, playground.AssetsPath):
		return playground.AssetsPath // the playground's bundled files, one label
	}
	return "other"
}

// New returns the server's whole HTTP handler.
func New(db *store.DB, authn *auth.Authenticator, log *slog.Logger, opts Options) http.Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 15 * time.Second
	}
	if opts.MaxTokens <= 0 {
		opts.MaxTokens = 10000
	}
	if opts.Metrics == nil {
		opts.Metrics = telemetry.NewMetrics(telemetry.MetricsOptions{MaxOperationNames: opts.MaxOperationNames})
	}
	opts.Metrics.WatchPool(db.SQL(), db.Statements)
	mux := http.NewServeMux()
	if opts.Events == nil {
		opts.Events = events.NewHub(db, log, events.Limits{})
	}
	// Subscriptions (subscriptions.go) bypass the request timeout.
	stream := withConnection(authenticate(authn, opts.RequestTimeout, endWhenLapsed(authn, opts.StreamRecheck,
		limitBody(opts.MaxBodyBytes, graphQL(db, opts,
			append(streamTransports(authn, opts.CORSOrigins, opts.StreamRecheck), sessionPerEvent{db})...)))))
	// Credentials (headers only) are checked before the body is read:
	// a caller with bad credentials is refused without sending it, and
	// one without credentials may send only a small one.
	query := jsonByDefault(retryAfter(authenticate(authn, opts.RequestTimeout,
		readBody(opts.MaxBodyBytes, opts.RequestTimeout/2,
			withTimeout(opts.RequestTimeout, withSession(db, graphQL(db, opts, overHTTP{}, noSubscriptions{})))))))
	mux.Handle("/query", withCORS(opts.CORSOrigins, streams(stream, query)))
	mux.Handle("/scim/v2/", scimHandler(db, authn, opts))
	if opts.Playground {
		mux.Handle("GET /{$}", playground.Page("/query", opts.PlaygroundHeaders))
		mux.Handle("GET "+playground.AssetsPath, playground.Assets())
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", ready(db))
	mux.Handle("GET /export/assignments.csv", authenticate(authn, opts.RequestTimeout, exportAssignments(db, opts.RequestTimeout)))
	if opts.Debug {
		mux.HandleFunc("GET /debug/statements", func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, map[string]int64{"statements": db.Statements()})
		})
	}
	mux.Handle("GET /metrics", opts.Metrics.Handler())
	h := requestLog(log, opts.Metrics, mux)
	if tp := opts.Tracing.Provider(); tp != nil {
		h = otelhttp.NewHandler(h, "seatgraph", otelhttp.WithTracerProvider(tp),
			otelhttp.WithPropagators(telemetry.Propagator()),
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
				return telemetry.Method(r.Method) + " " + route(r)
			}),
			otelhttp.WithFilter(func(r *http.Request) bool { return r.URL.Path == "/query" }))
	}
	return h
}

// graphQL is the gqlgen executor with seatgraph's error handling and
// authorization, over the given transports (and extensions).
func graphQL(db *store.DB, opts Options, with ...any) http.Handler {
	srv := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{DB: db, Source: opts.Source, Events: opts.Events,
		Webhooks: webhooks.Guard{AllowPrivate: opts.WebhookAllowPrivate}}}))
	srv.AddTransport(transport.Options{})
	for _, w := range with {
		switch w := w.(type) {
		case graphql.Transport:
			srv.AddTransport(w)
		case graphql.HandlerExtension:
			srv.Use(w)
		}
	}
	validated := lru.New[*ast.QueryDocument](1000)
	srv.SetQueryCache(validated)
	srv.SetParserTokenLimit(opts.MaxTokens)
	// Before validation: documents whose validation would be slow.
	srv.Use(&limits.Fields{Max: opts.MaxRepeatedFields, TokenLimit: opts.MaxTokens, Validated: validated})
	if !opts.FieldSuggestions {
		srv.SetDisableSuggestion(true) // field and scalar-leaf messages
		srv.SetValidationRulesFn(rulesWithoutSuggestions)
	}
	if opts.Introspection {
		srv.Use(extension.Introspection{})
	} else {
		srv.Use(noIntrospection{})
	}
	// These run after validation and before any resolver: an operation
	// without credentials, over a limit, or with a NUL in a string,
	// executes nothing.
	srv.Use(noNUL{})
	srv.Use(noDefer{})
	srv.Use(graph.Credentials{})
	srv.Use(&limits.Extension{Limits: opts.Limits})
	srv.Use(telemetry.NewGraphQL(opts.Tracing.Provider()))
	srv.AroundFields(graph.Fields)
	srv.SetErrorPresenter(graph.PresentError)
	srv.SetRecoverFunc(graph.Recover)
	return srv
}

// rulesWithoutSuggestions are gqlparser's validation rules with every rule
// that would suggest names ("Did you mean …?") swapped for its variant
// without suggestions, so error messages do not reveal the schema.
func rulesWithoutSuggestions() *rules.Rules {
	rs := rules.NewDefaultRules()
	for _, r := range []core.Rule{rules.KnownArgumentNamesRuleWithoutSuggestions,
		rules.KnownTypeNamesRuleWithoutSuggestions, rules.ValuesOfCorrectTypeRuleWithoutSuggestions} {
		rs.RemoveRule(strings.TrimSuffix(r.Name, "WithoutSuggestions"))
		rs.AddRule(r.Name, r.RuleFunc)
	}
	return rs
}

// authenticate turns the Authorization header into the request's
// Principal. A request without the header goes on without one (only the
// public fields answer it); a request with bad credentials stops here,
// with 401 and the reason. Checking a credential (an API key is looked up
// in the database) is bounded by the request timeout d.
func authenticate(authn *auth.Authenticator, d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		if header == "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		p, err := authn.Authenticate(ctx, header)
		cancel()
		if err != nil && r.ContentLength != 0 {
			// The body is not read: net/http would wait for it before
			// answering (to reuse the connection); close it instead.
			w.Header().Set("Connection", "close")
		}
		switch {
		case errors.Is(err, auth.ErrUnauthenticated):
			logging.From(r.Context()).InfoContext(r.Context(), "credentials refused", "error", err.Error())
			telemetry.From(r.Context()).AddError(codes.Unauthenticated)
			unauthenticated(w, auth.Reason(err))
			return
		case err != nil:
			// The database holding the API keys is out of reach: the same
			// answer a JWT caller gets from its first read.
			logging.From(r.Context()).ErrorContext(r.Context(), "credentials could not be checked", "error", err.Error())
			telemetry.From(r.Context()).AddError(codes.ServiceUnavailable)
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"errors": []map[string]any{
				{"message": "the database is unavailable; try again shortly", "extensions": map[string]string{"code": codes.ServiceUnavailable}},
			}})
			return
		}
		app := ""
		if p.AppID != nil {
			app = *p.AppID
		}
		telemetry.From(r.Context()).SetCaller(p.TenantID, app, p.Subject)
		if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
			span.SetAttributes(attribute.String("seatgraph.tenant", p.TenantID))
			if app != "" {
				span.SetAttributes(attribute.String("seatgraph.app", app))
			}
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

func unauthenticated(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="seatgraph", error="invalid_token"`)
	writeJSON(w, http.StatusUnauthorized, map[string]any{"errors": []map[string]any{
		{"message": msg, "extensions": map[string]string{"code": codes.Unauthenticated}},
	}})
}

// withSession gives an authenticated request its tenant-scoped session and
// its loaders, and ends the session's transaction when the request ends.
func withSession(db *store.DB, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.FromContext(r.Context())
		if p == nil {
			next.ServeHTTP(w, r)
			return
		}
		sess := db.Session(r.Context(), store.Tenant{ID: p.TenantID, AppID: p.AppID})
		defer func() {
			if err := sess.Close(); err != nil {
				logging.From(r.Context()).WarnContext(r.Context(), "closing session", "error", err.Error())
			}
		}()
		next.ServeHTTP(w, r.WithContext(loaders.With(r.Context(), sess)))
	})
}

// jsonByDefault labels a response JSON unless the handler says otherwise;
// it gives the request timeout's 503 body its content type.
func jsonByDefault(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		next.ServeHTTP(w, r)
	})
}

// retryAfterSeconds is the Retry-After of every 503 /query answers (the
// database out of reach, a write that could not get its locks, a request
// timed out): long enough for a restart or a queue of writers to pass.
const retryAfterSeconds = "2"

// retryAfter adds Retry-After to a 503 answer, whichever layer wrote it
// (the request timeout's answer included).
func retryAfter(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&retryAfterWriter{ResponseWriter: w}, r)
	})
}

type retryAfterWriter struct{ http.ResponseWriter }

func (w *retryAfterWriter) WriteHeader(code int) {
	if code == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", retryAfterSeconds)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *retryAfterWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func limitBody(n int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, n)
		next.ServeHTTP(w, r)
	})
}

// anonymousBodyBytes is the largest body of a request without
// credentials (only public fields answer it; an introspection query is a
// few KB): the server does not hold MAX_BODY_BYTES for anyone at all.
const anonymousBodyBytes = 64 << 10

// readBody reads the request body, at most n bytes (anonymousBodyBytes
// for a request without credentials, which authenticate, before it, left
// without a principal), before the request timeout starts to run the
// request; the body has d (half the request timeout) to arrive. A client that stalls is answered 408 while the
// connection can still carry the answer (the server's read timeout would
// cut it off with none), and the connection is closed after it. A body
// over n is left to the transport to answer 413.
func readBody(n int64, d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		limit := n
		if auth.FromContext(r.Context()) == nil {
			limit = min(n, anonymousBodyBytes)
		}
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			media, ok := negotiate(r.Header.Get("Accept"))
			if !ok {
				media = mediaJSON
			}
			w.Header().Set("Connection", "close")
			writeRequestError(w, r, media, refuse(http.StatusRequestTimeout, "the request body did not arrive within %s", d))
			return
		}
		_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		next.ServeHTTP(w, r)
	})
}

// errReader fails every read with err (io.EOF when nil): a body that
// could not be read in full fails for the transport as it did here.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err == nil {
		return 0, io.EOF
	}
	return 0, e.err
}

// ready answers 200 when the database is reachable and every migration
// this binary knows is applied.
func ready(db *store.DB) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := db.SQL().PingContext(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
			return
		}
		ms, err := migrate.NewMigrator(db.Bun(), migrations.Migrations).MigrationsWithStatus(ctx)
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "cannot read migrations"})
			return
		}
		if pending := ms.Unapplied(); len(pending) > 0 {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "migrations pending", "pending": len(pending)})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

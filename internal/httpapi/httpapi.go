// Package httpapi assembles seatgraph's HTTP surface: the GraphQL endpoint
// behind its middleware (request id and logs, limits, credentials, the
// per-request session and loaders), the playground, and health checks.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/uptrace/bun/migrate"
	"github.com/vektah/gqlparser/v2/ast"

	"seatgraph/graph"
	"seatgraph/internal/auth"
	"seatgraph/internal/loaders"
	"seatgraph/internal/logging"
	"seatgraph/internal/store"
	"seatgraph/migrations"
)

// Options are the HTTP-level settings.
type Options struct {
	Playground     bool
	Introspection  bool
	RequestTimeout time.Duration
	MaxBodyBytes   int64
	// Debug serves GET /debug/statements, the pool's SQL statement count,
	// so that tests from outside the process (e2e/) can prove batching.
	Debug bool
}

// New returns the server's whole HTTP handler.
func New(db *store.DB, verifier *auth.Verifier, log *slog.Logger, opts Options) http.Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 15 * time.Second
	}
	mux := http.NewServeMux()
	query := authenticate(verifier, withSession(db, graphQL(db, opts)))
	mux.Handle("/query", http.TimeoutHandler(limitBody(opts.MaxBodyBytes, query), opts.RequestTimeout,
		`{"errors":[{"message":"request timed out","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`))
	if opts.Playground {
		mux.Handle("GET /{$}", playground.Handler("seatgraph", "/query"))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", ready(db))
	if opts.Debug {
		mux.HandleFunc("GET /debug/statements", func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, map[string]int64{"statements": db.Statements()})
		})
	}
	return requestLog(log, mux)
}

// graphQL is the gqlgen executor with seatgraph's error handling and
// authorization.
func graphQL(db *store.DB, opts Options) http.Handler {
	srv := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{DB: db}}))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if opts.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.AroundFields(graph.Authorize)
	srv.SetErrorPresenter(graph.PresentError)
	srv.SetRecoverFunc(graph.Recover)
	return srv
}

// authenticate turns the Authorization header into the request's
// Principal. A request without the header goes on without one (only the
// public fields answer it); a request with bad credentials stops here.
func authenticate(v *auth.Verifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		if header == "" {
			next.ServeHTTP(w, r)
			return
		}
		scheme, token, _ := strings.Cut(header, " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			unauthenticated(w, "Authorization must be \"Bearer <token>\"")
			return
		}
		p, err := v.Verify(strings.TrimSpace(token))
		if err != nil {
			logging.From(r.Context()).InfoContext(r.Context(), "credentials refused", "error", err.Error())
			unauthenticated(w, "invalid or expired token")
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

func unauthenticated(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="seatgraph"`)
	writeJSON(w, http.StatusUnauthorized, map[string]any{"errors": []map[string]any{
		{"message": msg, "extensions": map[string]string{"code": graph.CodeUnauthenticated}},
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
		next.ServeHTTP(w, r.WithContext(loaders.With(r.Context(), loaders.New(sess))))
	})
}

func limitBody(n int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, n)
		next.ServeHTTP(w, r)
	})
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

// requestLog gives every request an id (X-Request-ID, kept when the caller
// sends a sane one) and a logger carrying it, and logs one line per request.
func requestLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if id == "" || len(id) > 64 {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-ID", id)
		l := log.With("request_id", id)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rec, r.WithContext(logging.With(r.Context(), l)))
		l.InfoContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "duration_ms", float64(time.Since(start).Microseconds())/1000)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

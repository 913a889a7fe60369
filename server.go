// Command seatgraph is the seatgraph GraphQL subgraph server and its
// operational subcommands (cli.go; `seatgraph help` lists them):
//
//	seatgraph [serve]                 run the server (the default)
//	seatgraph migrate [up|down|status]
//	seatgraph seed [--tenant T]       load demo data (idempotent)
//	seatgraph token --tenant T …      print a development JWT
//	seatgraph apikey create|list|revoke
//	seatgraph version
//
// Configuration comes from the environment; see README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/uptrace/bun"

	"seatgraph/internal/apikey"
	"seatgraph/internal/auth"
	"seatgraph/internal/config"
	"seatgraph/internal/economics"
	"seatgraph/internal/events"
	"seatgraph/internal/httpapi"
	"seatgraph/internal/lease"
	"seatgraph/internal/licensing"
	"seatgraph/internal/limits"
	"seatgraph/internal/seed"
	"seatgraph/internal/store"
	"seatgraph/internal/telemetry"
	"seatgraph/internal/webhooks"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := commands(os.Stdout, os.Stderr).Run(ctx, helpArgs(os.Args)); err != nil {
		fmt.Fprintln(os.Stderr, "seatgraph:", err)
		os.Exit(1)
	}
}

func newLogger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
}

func openDB(ctx context.Context, cfg *config.Config, url string, hooks ...bun.QueryHook) (*store.DB, error) {
	return store.Open(ctx, url, store.Options{MaxConns: cfg.MaxConns, StatementTimeout: cfg.StatementTimeout,
		LockTimeout: cfg.LockTimeout, PlanCacheMode: cfg.PlanCacheMode, Hooks: hooks})
}

func serve(ctx context.Context) error {
	cfg, err := config.Load(true)
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel)
	slog.SetDefault(log)
	config.TuneGC()
	// Bind first: a taken port stops serve before it migrates or connects.
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen on %s:%d: %w (is another seatgraph already running? set PORT or HOST)", cfg.Host, cfg.Port, err)
	}
	defer ln.Close()
	if cfg.MigrateOnStart {
		admin, err := openDB(ctx, cfg, cfg.DatabaseAdminURL)
		if err != nil {
			return err
		}
		err = applyMigrations(ctx, admin, log)
		admin.Close()
		if err != nil {
			return err
		}
	}
	// Tracing is on only when an OTLP endpoint is configured (OTEL_*).
	tracing, err := telemetry.TracingFromEnv(ctx, os.Getenv)
	if err != nil {
		return err
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tracing.Shutdown(flushCtx)
	}()
	metrics := telemetry.NewMetrics(telemetry.MetricsOptions{Operations: cfg.MetricsOperations,
		MaxOperationNames: cfg.MetricsMaxOperations})
	if len(cfg.MetricsOperations) == 0 && !cfg.DevMode {
		log.Warn("METRICS_OPERATIONS is not set: the first METRICS_MAX_OPERATIONS operation names any authenticated " +
			"caller sends get series of their own, so one tenant can take every slot and the rest are \"other\"; " +
			"list your clients' operation names in METRICS_OPERATIONS (docs/operations.md)")
	}
	db, err := openDB(ctx, cfg, cfg.DatabaseURL, telemetry.QueryHooks(metrics, tracing)...)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := checkRole(ctx, db, cfg.DevMode, log); err != nil {
		return err
	}
	// The jobs' pool: the same role, a few connections, and PostgreSQL's own
	// choice of plans (store.JobPlans).
	jobsDB, err := store.Open(ctx, cfg.DatabaseURL, store.Options{MaxConns: 4, StatementTimeout: cfg.StatementTimeout,
		LockTimeout: cfg.LockTimeout, PlanCacheMode: store.JobPlans, Hooks: telemetry.QueryHooks(metrics, tracing)})
	if err != nil {
		return err
	}
	defer jobsDB.Close()
	metrics.WatchJobsPool(jobsDB.SQL())
	verifier, err := auth.NewVerifier(ctx, auth.JWTConfig{Secret: []byte(cfg.JWTSecret), JWKSURL: cfg.JWKSURL,
		JWKSRefresh: cfg.JWKSRefresh, JWKSMinRefetch: cfg.JWKSMinRefetch, Issuer: cfg.JWTIssuer,
		Audience: cfg.JWTAudience, TenantClaim: cfg.TenantClaim, AppClaim: cfg.AppClaim, Leeway: cfg.JWTLeeway})
	if err != nil {
		return err
	}
	authn := &auth.Authenticator{JWT: verifier, Keys: apikey.NewStore(db.Bun())}
	hub := events.NewHub(db, log, events.Limits{})
	srv := &http.Server{
		Handler:           httpapi.New(db, authn, log, withEvents(httpOptions(cfg, metrics, tracing), cfg, hub)),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// The body has half the request timeout to arrive (else 408), then
		// the request the whole of it: the answer must still get out.
		WriteTimeout: cfg.RequestTimeout*3/2 + 5*time.Second,
		IdleTimeout:  2 * time.Minute,
	}
	// The expiry job runs in every replica; a lease (a job_leases row) lets one at a time work.
	// On the way out the job is stopped and awaited (deferred after the pools' Close, so it
	// runs first): a run gives its lease back before its pool closes.
	jobs, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	jobsDone := make(chan struct{})
	defer awaitJobs(stopJobs, jobsDone, log)
	var running sync.WaitGroup
	running.Go(func() {
		telemetry.RunJob(jobs, metrics, "expiry", cfg.ExpiryInterval, log, leased(jobsDB, licensing.ExpireDue))
	})
	// The utilisation snapshots: every replica runs the job, a job_leases
	// lease lets one at a time work.
	running.Go(func() {
		telemetry.RunJob(jobs, metrics, "snapshots", cfg.SnapshotInterval, log, leased(jobsDB, economics.TakeSnapshots))
	})
	// The reclaim policies (SPEC §10): one replica at a time, by a job_leases lease.
	running.Go(func() {
		telemetry.RunJob(jobs, metrics, "reclaim", cfg.ReclaimInterval, log, leased(jobsDB, licensing.ReclaimDue))
	})
	running.Go(func() {
		telemetry.RunJob(jobs, metrics, "events", cfg.Events.JobInterval, log, func(ctx context.Context) (int, error) {
			return licensing.EventJobs(ctx, jobsDB, cfg.Events.ExpiryNotice, cfg.Events.Retention)
		})
	})
	running.Go(func() {
		webhooks.NewWorker(jobsDB, hub, log, webhooks.Options{Schedule: cfg.Events.WebhookSchedule,
			DisableAfter: cfg.Events.WebhookDisableAfter, Guard: webhooks.Guard{AllowPrivate: cfg.Events.WebhookAllowPrivate}}).Run(jobs)
	})
	srv.RegisterOnShutdown(hub.Close) // subscriptions end, so Shutdown need not wait for them
	go func() {
		running.Wait()
		close(jobsDone)
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("seatgraph serving", "address", ln.Addr().String(), "playground", cfg.Playground, "dev_mode", cfg.DevMode,
		"tracing", tracing != nil)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Stop accepting, let in-flight requests finish, then close the pool.
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.RequestTimeout+5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// leased is a job that runs under a job_leases lease, as RunJob runs it:
// a run that found the lease held by another replica counts as skipped.
func leased(db *store.DB, job func(context.Context, *store.DB) (int, error)) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		n, err := job(ctx, db)
		if errors.Is(err, lease.ErrHeld) {
			err = fmt.Errorf("%w: %w", telemetry.ErrSkipped, err)
		}
		return n, err
	}
}

// httpOptions are the HTTP settings serve gives the handler.
func httpOptions(cfg *config.Config, metrics *telemetry.Metrics, tracing *telemetry.Tracing) httpapi.Options {
	return httpapi.Options{Playground: cfg.Playground, PlaygroundHeaders: playgroundHeaders(cfg),
		Introspection: cfg.Introspection, RequestTimeout: cfg.RequestTimeout, Debug: cfg.DebugEndpoints, Source: cfg.Source,
		MaxBodyBytes: cfg.MaxBodyBytes, FieldSuggestions: cfg.FieldSuggestions, MaxTokens: cfg.MaxTokens,
		Metrics: metrics, Tracing: tracing, CORSOrigins: cfg.CORSAllowedOrigins, MaxRepeatedFields: cfg.MaxRepeatedFields,
		Limits: limits.Limits{MaxDepth: cfg.MaxDepth, MaxAliases: cfg.MaxAliases, MaxComplexity: cfg.MaxComplexity}}
}

// withEvents adds the event hub (subscriptions) and the webhook settings
// to the HTTP options.
func withEvents(o httpapi.Options, cfg *config.Config, hub *events.Hub) httpapi.Options {
	o.Events, o.WebhookAllowPrivate, o.StreamRecheck = hub, cfg.Events.WebhookAllowPrivate, cfg.Events.StreamRecheck
	return o
}

// playgroundHeaders gives the playground's Headers tab a development token
// (tenant PLAYGROUND_TENANT, every scope, the demo admin as subject),
// minted afresh for each page load, only on a development server: DEV_MODE
// with the public development secret, whose tokens are worth nothing
// elsewhere. With a secret of its own (JWT_SECRET set) the page has no
// token. The page adds it only for a request from this machine by a
// loopback name (playground.Page).
func playgroundHeaders(cfg *config.Config) func() (map[string]string, error) {
	if !cfg.DevMode || cfg.JWTSecret != config.DevSecret {
		return nil
	}
	return func() (map[string]string, error) {
		tok, err := mintToken(cfg, cfg.PlaygroundTenant, seed.AdminSubject, "", auth.AllScopes, tokenTTL)
		if err != nil {
			return nil, err
		}
		return map[string]string{"Authorization": "Bearer " + tok}, nil
	}
}

// jobsGrace bounds how long shutdown waits for the background jobs to
// notice they were stopped (a run stops at its next statement, then gives
// its lease back).
const jobsGrace = 10 * time.Second

// awaitJobs stops the background jobs and waits, at most jobsGrace, until
// they have returned.
func awaitJobs(stop context.CancelFunc, done <-chan struct{}, log *slog.Logger) {
	stop()
	select {
	case <-done:
	case <-time.After(jobsGrace):
		log.Warn("background jobs did not stop in time; closing the pool anyway", "grace", jobsGrace.String())
	}
}

// checkRole refuses to serve as a role that row-level security does not
// bind (a superuser, a BYPASSRLS role, or the tables' owner or a member of
// it), unless this is a development run.
func checkRole(ctx context.Context, db *store.DB, dev bool, log *slog.Logger) error {
	var super, bypass, owner bool
	err := db.Bun().QueryRowContext(ctx, `SELECT r.rolsuper, r.rolbypassrls,
		coalesce((SELECT pg_has_role(current_user, tableowner, 'MEMBER') FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'licenses'), false)
		FROM pg_roles r WHERE r.rolname = current_user`).Scan(&super, &bypass, &owner)
	if err != nil {
		return fmt.Errorf("check database role: %w", err)
	}
	if super || bypass || owner {
		msg := "the database role is a superuser, has BYPASSRLS or owns the tables, so row-level security would not wall tenants off"
		if !dev {
			return errors.New(msg + "; connect DATABASE_URL as the application role (or set DEV_MODE=true)")
		}
		log.Warn(msg + " (tolerated because DEV_MODE is on)")
	}
	return nil
}

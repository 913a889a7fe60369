// Command seatgraph is the seatgraph GraphQL subgraph server and its
// operational subcommands:
//
//	seatgraph [serve]                     run the server (the default)
//	seatgraph migrate                     apply pending migrations
//	seatgraph seed [--tenant T]           load demo data (idempotent)
//	seatgraph token --tenant T [--sub S] [--app A] [--scopes "…"] [--ttl D]
//	                                      print a development JWT
//	seatgraph apikey create --tenant T [--app A] [--scopes "…"] [--ttl D] [--name N]
//	seatgraph apikey list [--tenant T]
//	seatgraph apikey revoke <id>           mint (shown once), list, revoke API keys
//
// Configuration comes from the environment; see README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/uptrace/bun"

	"seatgraph/internal/apikey"
	"seatgraph/internal/auth"
	"seatgraph/internal/config"
	"seatgraph/internal/httpapi"
	"seatgraph/internal/licensing"
	"seatgraph/internal/limits"
	"seatgraph/internal/seed"
	"seatgraph/internal/store"
	"seatgraph/internal/telemetry"
	"seatgraph/migrations"
)

func main() {
	cmd, args := "serve", os.Args[1:]
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var err error
	switch cmd {
	case "serve":
		err = serve(ctx)
	case "migrate":
		err = migrateCmd(ctx)
	case "seed":
		err = seedCmd(ctx, args)
	case "token":
		err = tokenCmd(args)
	case "apikey":
		err = apikeyCmd(ctx, args)
	default:
		err = fmt.Errorf("unknown command %q (want serve, migrate, seed, token or apikey)", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "seatgraph:", err)
		os.Exit(1)
	}
}

func newLogger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
}

func openDB(ctx context.Context, cfg *config.Config, url string, hooks ...bun.QueryHook) (*store.DB, error) {
	return store.Open(ctx, url, store.Options{MaxConns: cfg.MaxConns, StatementTimeout: cfg.StatementTimeout, Hooks: hooks})
}

func serve(ctx context.Context) error {
	cfg, err := config.Load(true)
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel)
	slog.SetDefault(log)
	if cfg.MigrateOnStart {
		if err := applyMigrations(ctx, cfg, log); err != nil {
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
	db, err := openDB(ctx, cfg, cfg.DatabaseURL, telemetry.QueryHooks(metrics, tracing)...)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := checkRole(ctx, db, cfg.DevMode, log); err != nil {
		return err
	}
	verifier, err := auth.NewVerifier(ctx, auth.JWTConfig{Secret: []byte(cfg.JWTSecret), JWKSURL: cfg.JWKSURL,
		JWKSRefresh: cfg.JWKSRefresh, JWKSMinRefetch: cfg.JWKSMinRefetch, Issuer: cfg.JWTIssuer,
		Audience: cfg.JWTAudience, TenantClaim: cfg.TenantClaim, AppClaim: cfg.AppClaim, Leeway: cfg.JWTLeeway})
	if err != nil {
		return err
	}
	authn := &auth.Authenticator{JWT: verifier, Keys: apikey.NewStore(db.Bun())}
	srv := &http.Server{
		Addr: fmt.Sprintf(":%d", cfg.Port),
		Handler: httpapi.New(db, authn, log, httpapi.Options{Playground: cfg.Playground,
			Introspection: cfg.Introspection, RequestTimeout: cfg.RequestTimeout, Debug: cfg.DebugEndpoints, Source: cfg.Source,
			MaxBodyBytes: cfg.MaxBodyBytes, FieldSuggestions: cfg.FieldSuggestions, MaxTokens: cfg.MaxTokens,
			Metrics: metrics, Tracing: tracing,
			Limits: limits.Limits{MaxDepth: cfg.MaxDepth, MaxAliases: cfg.MaxAliases, MaxComplexity: cfg.MaxComplexity}}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	// The expiry job runs in every replica; a lease (a job_leases row) lets one at a time work.
	jobs, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopJobs()
	go telemetry.RunJob(jobs, metrics, "expiry", cfg.ExpiryInterval, log, func(ctx context.Context) (int, error) {
		return licensing.ExpireDue(ctx, db)
	})
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("seatgraph serving", "port", cfg.Port, "playground", cfg.Playground, "dev_mode", cfg.DevMode,
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

func applyMigrations(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	db, err := openDB(ctx, cfg, cfg.DatabaseAdminURL)
	if err != nil {
		return err
	}
	defer db.Close()
	group, err := migrations.Apply(ctx, db.Bun())
	if err != nil {
		return err
	}
	if group.IsZero() {
		log.Info("migrations: database is current")
	} else {
		log.Info("migrations applied", "group", group.String())
	}
	return nil
}

func migrateCmd(ctx context.Context) error {
	cfg, err := config.Load(true)
	if err != nil {
		return err
	}
	return applyMigrations(ctx, cfg, newLogger(cfg.LogLevel))
}

func seedCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	tenant := fs.String("tenant", "demo", "tenant to fill with demo data")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(true)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, cfg, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := seed.Run(ctx, db, *tenant)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if !res.Created {
		fmt.Printf("tenant %q already has data; left as it is\n", *tenant)
		return nil
	}
	fmt.Printf("seeded tenant %q: %d licenses, %d people, %d groups, %d grants\n",
		*tenant, res.Licenses, res.People, res.Groups, res.Assignments)
	return nil
}

func tokenCmd(args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant the token is for (required)")
	sub := fs.String("sub", seed.AdminSubject, "subject (the caller's id)")
	app := fs.String("app", "", "application id, for an app-scoped token")
	scopes := fs.String("scopes", strings.Join(auth.AllScopes, " "), "space-separated scopes")
	ttl := fs.Duration("ttl", 12*time.Hour, "lifetime")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tenant == "" {
		return errors.New("token: --tenant is required")
	}
	if *ttl <= 0 {
		return errors.New("token: --ttl must be positive")
	}
	cfg, err := config.Load(false)
	if err != nil {
		return err
	}
	tok, err := auth.Mint(auth.JWTConfig{Secret: []byte(cfg.JWTSecret), Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience,
		TenantClaim: cfg.TenantClaim, AppClaim: cfg.AppClaim},
		auth.TokenRequest{Tenant: *tenant, Subject: *sub, App: *app, Scopes: strings.Fields(*scopes), TTL: *ttl})
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}

// apikeyCmd mints, lists and revokes API keys over the owner connection
// (DATABASE_ADMIN_URL): the server's own role cannot write keys.
func apikeyCmd(ctx context.Context, args []string) error {
	url, err := config.AdminDatabaseURL()
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, url, store.Options{MaxConns: 2})
	if err != nil {
		return err
	}
	defer db.Close()
	return apikey.Command(ctx, apikey.NewStore(db.Bun()), args, os.Stdout, os.Stderr)
}

// Package store opens seatgraph's database and is the single path by which
// requests reach tenant data: every query is built from a Scope, which adds
// the caller's tenant (and app) filter, on a connection whose app.tenant_id
// setting makes PostgreSQL's row-level security agree (see conn).
package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
)

// Options tune the connection pool and per-transaction limits.
type Options struct {
	MaxConns         int
	StatementTimeout time.Duration
	// Hooks see every statement (telemetry: timing, logs, spans).
	Hooks []bun.QueryHook
	// LockTimeout bounds each wait for a lock, apart from statement time
	// (default 2 s); a write that still cannot get its lock after one
	// retry fails with an error Busy recognises.
	LockTimeout time.Duration
	// PlanCacheMode is PostgreSQL's plan_cache_mode for every connection
	// of the pool (default GenericPlans; auto on Citus, where Open refuses
	// GenericPlans).
	PlanCacheMode string
}

// GenericPlans is the pool's default plan_cache_mode. Each statement is
// prepared once per connection (params.go); PostgreSQL then plans it
// anew at every execution (a custom plan for the values) until a plan for
// any values (generic) is estimated no dearer. For the reads the API
// repeats most, that never happened: the generic plan of `id = ANY($1)`
// and of `unnest($1) … LATERAL` is estimated for ten values, the custom
// plan of one value always looked cheaper, and planning the lateral read
// of a person's grants took 0.2 ms at 1M assignments against 0.05 ms to
// run it (1.25 ms against 0.33 ms under load). The generic plans are the
// same plans: `make bench-check` EXPLAINs every list query of the API as
// a generic plan of a prepared statement at 1M and fails on a sequential
// scan or a big sort. PLAN_CACHE_MODE=auto gives the choice back to
// PostgreSQL. On Citus the default is auto: the coordinator cannot plan
// most distributed statements without their values ("could not create
// distributed plan").
const GenericPlans = "force_generic_plan"

// JobPlans is the plan_cache_mode of the background jobs' pool: PostgreSQL
// chooses (auto). Their statements read ranges of time (grants due to
// expire, deliveries due, seats idle since), whose share of the rows a
// generic plan cannot know: the expiry job's search for due grants took
// 16–40 ms with a generic plan at 1M assignments, 1–2 ms with a custom one.
const JobPlans = "auto"

// DB is the shared connection pool.
type DB struct {
	bun        *bun.DB
	statements atomic.Int64
	settings   atomic.Int64
	clock      dbClock
	// local: the database is Citus, so the tenant setting goes as SET
	// LOCAL inside a transaction around every scope (see conn).
	local atomic.Bool
	// hooks are the pool's query hooks, in bun's order, for the reads
	// that run without bun's scanning (Scope.Scan).
	hooks []bun.QueryHook
}

// Open connects to url and checks the connection.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	// bun quotes values into the SQL text by doubling quotes, which is
	// safe only while backslashes are ordinary characters. A startup option
	// outranks a database or role setting, so an ALTER DATABASE … SET
	// standard_conforming_strings = off cannot turn that off.
	cfg.RuntimeParams["standard_conforming_strings"] = "on"
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	citus, err := isCitus(pingCtx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if opts.PlanCacheMode == "" {
		opts.PlanCacheMode = GenericPlans
		if citus {
			opts.PlanCacheMode = "auto"
		}
	}
	if citus && opts.PlanCacheMode == GenericPlans {
		// Refused at the start rather than at every statement.
		return nil, fmt.Errorf("plan_cache_mode %s (PLAN_CACHE_MODE) is not for Citus: the coordinator cannot plan "+
			"most distributed statements without their values (could not create distributed plan); use auto", GenericPlans)
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 20
	}
	if opts.StatementTimeout <= 0 {
		opts.StatementTimeout = 5 * time.Second
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = 2 * time.Second
	}
	db := &DB{}
	// plan_cache_mode is set once the connection is open, not in its
	// startup message: a pooler in session mode (README, Connection
	// poolers) refuses a startup message with settings it does not know
	// (PgBouncer: "unsupported startup parameter").
	planCacheMode := stdlib.OptionAfterConnect(func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, "SELECT set_config('plan_cache_mode', $1, false)", opts.PlanCacheMode)
		return err
	})
	sqldb := sql.OpenDB(connector{Connector: stdlib.GetConnector(*cfg, planCacheMode), statementTimeout: opts.StatementTimeout,
		lockTimeout: opts.LockTimeout, settings: &db.settings, local: &db.local})
	sqldb.SetMaxOpenConns(opts.MaxConns)
	sqldb.SetMaxIdleConns(opts.MaxConns)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	db.bun = bun.NewDB(sqldb, newDialect())
	db.hooks = append([]bun.QueryHook{counter{&db.statements, &db.settings}}, opts.Hooks...)
	for _, h := range db.hooks {
		db.bun = db.bun.WithQueryHook(h)
	}
	if err := sqldb.PingContext(pingCtx); err != nil {
		_ = sqldb.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	db.local.Store(citus)
	if err := db.startClock(pingCtx); err != nil {
		_ = sqldb.Close()
		return nil, err
	}
	return db, nil
}

// isCitus tells, on a connection of its own, whether the database is a
// Citus coordinator: the pool's connections start with settings that
// depend on it.
func isCitus(ctx context.Context, cfg *pgx.ConnConfig) (bool, error) {
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer c.Close(context.WithoutCancel(ctx))
	var citus bool
	err = c.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus')").Scan(&citus)
	return citus, err
}

// Bun is the raw handle, for migrations and operational checks that are
// not about any tenant's data.
func (db *DB) Bun() *bun.DB { return db.bun }

// SQL is the underlying database/sql pool.
func (db *DB) SQL() *sql.DB { return db.bun.DB }

// Close stops the clock's refresh and closes the pool.
func (db *DB) Close() error {
	db.stopClock()
	return db.bun.Close()
}

// Statements is the number of SQL statements (BEGIN and COMMIT included)
// this pool's callers have sent since it was opened. Tests use it to prove
// batching. The session tenant setting a connection sends when it passes
// to another tenant is counted apart (TenantSettings): how often it goes
// depends on which pooled connection a statement gets. So, on Citus, are
// the BEGIN (with the SET LOCAL tenant setting) and COMMIT around a read
// or a single-statement write, which exist only to carry the setting: the
// same work counts the same statements on either database.
func (db *DB) Statements() int64 { return db.statements.Load() }

// TenantSettings is the number of session tenant settings (and resets)
// this pool's connections have sent, and on Citus the BEGIN and COMMIT
// (or ROLLBACK) of the transactions that carry the setting of a read.
func (db *DB) TenantSettings() int64 { return db.settings.Load() }

// settingTx marks the context of a transaction begun only to carry the
// tenant setting (scoped, on Citus).
type settingTx struct{}

// counter is a bun query hook that counts statements.
type counter struct{ n, settings *atomic.Int64 }

func (c counter) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	if ctx.Value(settingTx{}) != nil && (e.Query == "BEGIN" || e.Query == "COMMIT" || e.Query == "ROLLBACK") {
		c.settings.Add(1)
	} else {
		c.n.Add(1)
	}
	return ctx
}

func (counter) AfterQuery(context.Context, *bun.QueryEvent) {}

package apitest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"seatgraph/internal/store"
	"seatgraph/migrations"
)

// The suite's Citus mode (make test-citus, docs/scale-out.md): when
// SEATGRAPH_TEST_CITUS=1 (which only scripts/citus/test.sh sets, so URLs
// left in a shell never switch the mode on by accident),
// SEATGRAPH_CITUS_COORDINATOR_URL names a Citus coordinator (a superuser
// URL) and SEATGRAPH_CITUS_WORKER_URLS its workers (comma-separated), each
// test package's database is made on every node, the workers are
// registered in it, it is migrated on the coordinator and distributed
// with scripts/citus/distribute.sql, exactly as a deployment would be.
// Tests then talk to the coordinator as they would to a single PostgreSQL.
// The workers plan every statement generically (plan_cache_mode =
// force_generic_plan): the trigger on assignments runs there, and its
// statements on other tables must reach their shard in the plan that
// PL/pgSQL caches after a few runs, where Citus finds the shard only if the
// tenant is compared with a plain value. (The coordinator keeps the default:
// Citus steers PostgreSQL away from generic plans it cannot route.)

// citusCluster is the cluster the suite runs against in Citus mode.
type citusCluster struct {
	coordinator string   // superuser URL of the coordinator
	workers     []string // superuser URLs of the workers
}

// citusFromEnv returns the cluster named by the environment, or nil
// outside the Citus mode.
func citusFromEnv() (*citusCluster, error) {
	if os.Getenv("SEATGRAPH_TEST_CITUS") != "1" {
		return nil, nil
	}
	c := os.Getenv("SEATGRAPH_CITUS_COORDINATOR_URL")
	if c == "" {
		return nil, fmt.Errorf("SEATGRAPH_TEST_CITUS=1 but SEATGRAPH_CITUS_COORDINATOR_URL is not set (make test-citus sets both)")
	}
	out := &citusCluster{coordinator: c}
	for _, w := range strings.Split(os.Getenv("SEATGRAPH_CITUS_WORKER_URLS"), ",") {
		if w = strings.TrimSpace(w); w != "" {
			out.workers = append(out.workers, w)
		}
	}
	return out, nil
}

// nodes is every node's superuser URL, the coordinator first.
func (c *citusCluster) nodes() []string { return append([]string{c.coordinator}, c.workers...) }

// createDatabase makes database name on every node and distributes it.
func (c *citusCluster) createDatabase(ctx context.Context, name string) error {
	if len(c.workers) == 0 {
		return fmt.Errorf("SEATGRAPH_CITUS_WORKER_URLS names no worker")
	}
	for i, node := range c.nodes() {
		if err := prepareNode(ctx, node, name, i > 0); err != nil {
			return fmt.Errorf("node %s: %w", redact(node), err)
		}
	}
	coord, err := sql.Open("pgx", withDatabase(c.coordinator, "", "", name))
	if err != nil {
		return err
	}
	defer coord.Close()
	host, port := hostPort(c.coordinator)
	if _, err := coord.ExecContext(ctx, "SELECT citus_set_coordinator_host($1, $2)", host, port); err != nil {
		return fmt.Errorf("register the coordinator: %w", err)
	}
	for _, w := range c.workers {
		host, port := hostPort(w)
		if _, err := coord.ExecContext(ctx, "SELECT citus_add_node($1, $2)", host, port); err != nil {
			return fmt.Errorf("register worker %s:%d: %w", host, port, err)
		}
	}

	ownerURL := withDatabase(c.coordinator, "seatgraph_owner", "seatgraph_owner", name)
	owner, err := store.Open(ctx, ownerURL, store.Options{MaxConns: 2})
	if err != nil {
		return err
	}
	defer owner.Close()
	if _, err := migrations.Apply(ctx, owner.Bun()); err != nil {
		return err
	}
	psql := exec.CommandContext(ctx, psqlPath(), "-X", "-q", "-v", "ON_ERROR_STOP=1",
		"-f", filepath.Join(repoRoot(), "scripts", "citus", "distribute.sql"), ownerURL)
	psql.Env = append(os.Environ(), "PGOPTIONS=-c client_min_messages=warning")
	if out, err := psql.CombinedOutput(); err != nil {
		return fmt.Errorf("distribute.sql: %v: %s", err, out)
	}
	return nil
}

// prepareNode makes the roles (each node has its own) and database name
// with the citus extension on the node whose superuser URL is super, and
// lets the application role use what the owner creates; on a worker, the
// database plans generically.
func prepareNode(ctx context.Context, super, name string, worker bool) error {
	db, err := sql.Open("pgx", super)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, role := range []string{
		"CREATE ROLE seatgraph_owner LOGIN CREATEDB PASSWORD 'seatgraph_owner'",
		"CREATE ROLE seatgraph_app LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD 'seatgraph_app'",
	} {
		var exists bool
		r := strings.Fields(role)[2]
		if err := db.QueryRowContext(ctx, "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)", r).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			if _, err := db.ExecContext(ctx, role); err != nil {
				return err
			}
		}
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf("CREATE DATABASE %s OWNER seatgraph_owner", name)); err != nil {
		return err
	}
	if worker {
		if _, err := db.ExecContext(ctx, fmt.Sprintf("ALTER DATABASE %s SET plan_cache_mode = force_generic_plan", name)); err != nil {
			return err
		}
	}
	in, err := sql.Open("pgx", withDatabase(super, "", "", name))
	if err != nil {
		return err
	}
	defer in.Close()
	for _, stmt := range []string{
		"CREATE EXTENSION citus",
		"GRANT USAGE ON SCHEMA public TO seatgraph_app",
		"ALTER DEFAULT PRIVILEGES FOR ROLE seatgraph_owner IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO seatgraph_app",
		"ALTER DEFAULT PRIVILEGES FOR ROLE seatgraph_owner IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO seatgraph_app",
	} {
		if _, err := in.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return nil
}

// dropDatabase drops database name on every node.
func (c *citusCluster) dropDatabase(name string) error {
	var errs []string
	for _, node := range c.nodes() {
		db, err := sql.Open("pgx", node)
		if err == nil {
			_, err = db.Exec(fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
			_ = db.Close()
		}
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", redact(node), err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// hostPort is the host and port of a postgres URL, as the nodes see each other.
func hostPort(u string) (string, int) {
	p, err := url.Parse(u)
	if err != nil {
		return "", 0
	}
	port := 5432
	if s := p.Port(); s != "" {
		_, _ = fmt.Sscan(s, &port)
	}
	return p.Hostname(), port
}

// redact is u without its password, for messages.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "?"
	}
	return p.Redacted()
}

// psqlPath finds psql: on PATH, else among the PostgreSQL binaries.
func psqlPath() string {
	if p, err := exec.LookPath("psql"); err == nil {
		return p
	}
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/psql"); len(m) > 0 {
		return m[len(m)-1]
	}
	return "psql"
}

// LockWaiters counts the sessions of the server's role (seatgraph_app) in
// the package database that wait for a lock, asking super (a superuser
// connection to it); in the Citus mode on every node, since a statement
// waits on the worker that holds its shard.
func (d *Database) LockWaiters(t testing.TB, super *sql.DB) int {
	t.Helper()
	view := "pg_stat_activity"
	if d.Citus() {
		view = "citus_stat_activity"
	}
	var n int
	err := super.QueryRow(`SELECT count(*) FROM ` + view + ` WHERE datname = current_database()
		AND usename = 'seatgraph_app' AND wait_event_type = 'Lock'`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

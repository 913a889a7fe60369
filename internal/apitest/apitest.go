// Package apitest gives integration tests real parts: a fresh PostgreSQL
// database per test package (cloned from a migrated template on the
// private development cluster), the real HTTP handler over it, connected
// as the application role, and tokens to call it with.
package apitest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/uptrace/bun"

	"seatgraph/internal/apikey"
	"seatgraph/internal/auth"
	"seatgraph/internal/httpapi"
	"seatgraph/internal/store"
	"seatgraph/internal/telemetry"
	"seatgraph/migrations"
)

// Secret is the HS256 secret of the test handler.
const Secret = "apitest-secret-0123456789abcdef0123456789"

// Database is one test package's database.
type Database struct {
	Name     string
	AppURL   string // as seatgraph_app: row-level security applies
	OwnerURL string // as seatgraph_owner (also bound by FORCE ROW LEVEL SECURITY)
	SuperURL string // as postgres: sees every tenant, for assertions
	super    string // the cluster's superuser URL, for dropping the database
	citus    *citusCluster
}

var (
	pkgDB     *Database
	pkgDBErr  error
	pkgDBOnce sync.Once
	inMain    bool
)

// Main is the TestMain of a package with integration tests: it runs the
// tests and drops the package's database if one was made. The database
// is made on the first call to DB, so a package's tests that need none
// (pure unit tests run alone with -run) run without a database.
func Main(m *testing.M) int {
	inMain = true
	code := m.Run()
	if pkgDB != nil {
		if err := pkgDB.drop(); err != nil {
			fmt.Fprintln(os.Stderr, "apitest: drop database:", err)
		}
	}
	return code
}

// DB returns the package's database, made on first use; Main must run
// the package's tests.
func DB(t testing.TB) *Database {
	t.Helper()
	if !inMain {
		t.Fatal("apitest: call apitest.Main from the package's TestMain")
	}
	pkgDBOnce.Do(func() { pkgDB, pkgDBErr = createDatabase() })
	if pkgDBErr != nil {
		t.Fatal("apitest:", pkgDBErr)
	}
	return pkgDB
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// superuserURL starts the private cluster when needed and returns its
// superuser URL.
func superuserURL() (string, error) {
	if c, err := citusFromEnv(); c != nil || err != nil {
		if err != nil {
			return "", err
		}
		return c.coordinator, nil
	}
	if u := os.Getenv("SEATGRAPH_TEST_SUPERUSER_URL"); u != "" {
		return u, nil
	}
	out, err := exec.Command(filepath.Join(repoRoot(), "scripts", "db.sh"), "env").Output()
	if err != nil {
		return "", fmt.Errorf("start the private cluster: %w", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "export SEATGRAPH_TEST_SUPERUSER_URL="); ok {
			return strings.Trim(v, "'"), nil
		}
	}
	return "", fmt.Errorf("scripts/db.sh env printed no superuser URL")
}

// withDatabase returns u (a postgres URL) naming another database and user.
func withDatabase(u, user, password, db string) string {
	p, _ := url.Parse(u)
	p.Path = "/" + db
	if user != "" {
		p.User = url.UserPassword(user, password)
	}
	return p.String()
}

// migrationsHash names the template after the migrations it was made from.
func migrationsHash() string {
	h := sha256.New()
	_ = fs.WalkDir(os.DirFS(filepath.Join(repoRoot(), "migrations")), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".sql") {
			b, _ := os.ReadFile(filepath.Join(repoRoot(), "migrations", p))
			h.Write([]byte(p))
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func createDatabase() (*Database, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	super, err := superuserURL()
	if err != nil {
		return nil, err
	}
	conn, err := sql.Open("pgx", super)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	c, err := conn.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to the test cluster: %w", err)
	}
	defer c.Close()
	// Packages run in parallel: one at a time makes the template or clones it
	// (on Citus: makes and distributes its database).
	if _, err := c.ExecContext(ctx, "SELECT pg_advisory_lock(424242)"); err != nil {
		return nil, err
	}
	defer c.ExecContext(context.Background(), "SELECT pg_advisory_unlock(424242)") //nolint:errcheck

	name := fmt.Sprintf("seatgraph_test_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)
	db := &Database{
		Name:     name,
		AppURL:   withDatabase(super, "seatgraph_app", "seatgraph_app", name),
		OwnerURL: withDatabase(super, "seatgraph_owner", "seatgraph_owner", name),
		SuperURL: withDatabase(super, "", "", name),
		super:    super,
	}
	db.citus, _ = citusFromEnv() // its error was reported by superuserURL
	if db.citus != nil {
		if err := db.citus.createDatabase(ctx, name); err != nil {
			_ = db.drop()
			return nil, fmt.Errorf("make the database on the Citus cluster: %w", err)
		}
		return db, nil
	}

	tpl := "seatgraph_tpl_" + migrationsHash()
	var exists bool
	if err := c.QueryRowContext(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", tpl).Scan(&exists); err != nil {
		return nil, err
	}
	if !exists {
		if err := makeTemplate(ctx, c, super, tpl); err != nil {
			return nil, fmt.Errorf("make template: %w", err)
		}
	}
	if _, err := c.ExecContext(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s OWNER seatgraph_owner", name, tpl)); err != nil {
		return nil, err
	}
	return db, nil
}

func makeTemplate(ctx context.Context, c *sql.Conn, super, tpl string) error {
	if _, err := c.ExecContext(ctx, fmt.Sprintf("CREATE DATABASE %s OWNER seatgraph_owner", tpl)); err != nil {
		return err
	}
	grant := exec.Command(filepath.Join(repoRoot(), "scripts", "db.sh"), "grant", tpl)
	if out, err := grant.CombinedOutput(); err != nil {
		return fmt.Errorf("grant: %v: %s", err, out)
	}
	owner, err := store.Open(ctx, withDatabase(super, "seatgraph_owner", "seatgraph_owner", tpl), store.Options{MaxConns: 2})
	if err != nil {
		return err
	}
	defer owner.Close()
	_, err = migrations.Apply(ctx, owner.Bun())
	return err
}

func (d *Database) drop() error {
	if d.citus != nil {
		return d.citus.dropDatabase(d.Name)
	}
	conn, err := sql.Open("pgx", d.super)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.Exec(fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", d.Name))
	return err
}

// Citus says whether the database is distributed over a Citus cluster
// (the suite's Citus mode), for the few assertions where Citus answers
// differently: it refuses some statements before PostgreSQL would.
func (d *Database) Citus() bool { return d.citus != nil }

// Open opens a pool on the package database as the application role,
// with the given query hooks; it is closed when the test ends.
func (d *Database) Open(t testing.TB, hooks ...bun.QueryHook) *store.DB {
	t.Helper()
	return d.OpenWith(t, d.AppURL, store.Options{Hooks: hooks})
}

// OpenWith opens a pool on url (by default 20 connections and a 10 s
// statement timeout); it is closed when the test ends.
func (d *Database) OpenWith(t testing.TB, url string, opts store.Options) *store.DB {
	t.Helper()
	if opts.MaxConns == 0 {
		opts.MaxConns = 20
	}
	if opts.StatementTimeout == 0 {
		opts.StatementTimeout = 10 * time.Second
	}
	db, err := store.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// SQL opens a superuser connection for assertions that look across tenants.
func (d *Database) SQL(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", d.SuperURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// Server is the real HTTP handler, served over loopback, on its own pool.
type Server struct {
	URL string
	DB  *store.DB
}

// ServerConfig is what NewServer builds the handler from: by default
// introspection on, the default limits, HS256 tokens signed with Secret,
// and API keys checked against the package database.
type ServerConfig struct {
	HTTP httpapi.Options
	JWT  auth.JWTConfig
	// Log receives the server's logs (discarded when nil, unless -v).
	Log *slog.Logger
	// DatabaseURL is where the server's pool connects (the package
	// database as the application role when empty); Store tunes the pool.
	DatabaseURL string
	Store       store.Options
}

// ServerOption adjusts a ServerConfig.
type ServerOption func(*ServerConfig)

// NewServer starts a handler on a new pool on the package's database.
func NewServer(t testing.TB, opts ...ServerOption) *Server {
	t.Helper()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	cfg := ServerConfig{HTTP: httpapi.Options{Introspection: true}, JWT: auth.JWTConfig{Secret: []byte(Secret)}}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.HTTP.Metrics == nil {
		cfg.HTTP.Metrics = telemetry.NewMetrics(telemetry.MetricsOptions{MaxOperationNames: cfg.HTTP.MaxOperationNames})
	}
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = DB(t).AppURL
	}
	cfg.Store.Hooks = append(cfg.Store.Hooks, telemetry.QueryHooks(cfg.HTTP.Metrics, cfg.HTTP.Tracing)...)
	db := DB(t).OpenWith(t, cfg.DatabaseURL, cfg.Store)
	if cfg.Log != nil {
		log = cfg.Log
	}
	verifier, err := auth.NewVerifier(t.Context(), cfg.JWT)
	if err != nil {
		t.Fatal(err)
	}
	h := httpapi.New(db, &auth.Authenticator{JWT: verifier, Keys: apikey.NewStore(db.Bun())}, log, cfg.HTTP)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Server{URL: srv.URL, DB: db}
}

// Token mints a token for tenant with the given scopes (all when none).
func Token(t testing.TB, tenant string, scopes ...string) string {
	return TokenFor(t, auth.TokenRequest{Tenant: tenant, Subject: "test-user", Scopes: scopes})
}

// TokenFor mints a token for r (all scopes when r has none; an hour of life).
func TokenFor(t testing.TB, r auth.TokenRequest) string {
	t.Helper()
	if len(r.Scopes) == 0 {
		r.Scopes = auth.AllScopes
	}
	if r.TTL == 0 {
		r.TTL = time.Hour
	}
	tok, err := auth.Mint(auth.JWTConfig{Secret: []byte(Secret)}, r)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Response is a GraphQL response body with its HTTP status.
type Response struct {
	Status int
	Header http.Header    `json:"-"`
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
	Raw []byte `json:"-"`
}

// Codes lists the extensions.code of every error.
func (r *Response) Codes() []string {
	var out []string
	for _, e := range r.Errors {
		c, _ := e.Extensions["code"].(string)
		out = append(out, c)
	}
	return out
}

// Do posts a GraphQL request with token (none when empty).
func (s *Server) Do(t testing.TB, token, query string, vars map[string]any) *Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	r := s.Send(t, req)
	if err := json.Unmarshal(r.Raw, &struct{}{}); err != nil {
		t.Fatalf("response is not JSON (%d): %s", r.Status, r.Raw)
	}
	return r
}

// Send sends req (made against s.URL) and reads the response; a body
// that is not JSON is left in Raw alone.
func (s *Server) Send(t testing.TB, req *http.Request) *Response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := &Response{Status: resp.StatusCode, Header: resp.Header}
	r.Raw, _ = io.ReadAll(resp.Body)
	_ = json.Unmarshal(r.Raw, r)
	return r
}

// MustDo is Do that fails the test on any GraphQL error.
func (s *Server) MustDo(t testing.TB, token, query string, vars map[string]any) map[string]any {
	t.Helper()
	r := s.Do(t, token, query, vars)
	if len(r.Errors) > 0 || r.Status != http.StatusOK {
		t.Fatalf("query failed (%d): %s", r.Status, r.Raw)
	}
	return r.Data
}

var tenantSeq atomic.Int64

// Tenant returns a tenant name no other test in this run uses.
func Tenant(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), tenantSeq.Add(1))
}

// SetTenant sets, for the rest of tx, the tenant row-level security sees,
// with the store's own statement (store.SetTenantSQL).
func SetTenant(t testing.TB, tx *sql.Tx, tenant string) {
	t.Helper()
	if err := store.CheckTenantID(tenant); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(store.SetTenantSQL(tenant)); err != nil {
		t.Fatal(err)
	}
}

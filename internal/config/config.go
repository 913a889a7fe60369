// Package config reads seatgraph's settings from the environment and
// checks them once, at start, with messages that say what to fix.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"seatgraph/internal/limits"
	"seatgraph/internal/store"
)

// DevSecret is the HS256 secret used when DEV_MODE is on and JWT_SECRET is
// unset. It is public, so a server outside development refuses it.
const DevSecret = "seatgraph-development-secret-do-not-use-in-production"

// ErrNoKey is Load's error (errors.Is) when there is nothing to check
// tokens with, so that a command may explain it in its own terms.
var ErrNoKey = errors.New("JWT_SECRET or JWT_JWKS_URL is required (or set DEV_MODE=true for a development secret)")

// Config is every setting of the server.
type Config struct {
	DatabaseURL      string
	DatabaseAdminURL string
	MigrateOnStart   bool
	// Host is the address the server listens on: 127.0.0.1 under
	// DEV_MODE (whose signing secret is public), every interface ("")
	// otherwise; HOST=0.0.0.0 opens a development server to the network.
	Host    string
	Port    int
	DevMode bool
	// PlaygroundTenant is the tenant of the development token the
	// playground's Headers tab starts with under DEV_MODE.
	PlaygroundTenant string

	JWTSecret   string
	JWKSURL     string
	JWTIssuer   string
	JWTAudience string
	TenantClaim string
	AppClaim    string
	// JWTLeeway is the clock skew tolerated on exp and nbf.
	JWTLeeway time.Duration
	// JWKSRefresh is how often the JWKS is fetched again; JWKSMinRefetch
	// the shortest time between refetches caused by an unknown kid.
	JWKSRefresh    time.Duration
	JWKSMinRefetch time.Duration

	Playground    bool
	Introspection bool
	// FieldSuggestions lets validation errors say "Did you mean …?".
	FieldSuggestions bool
	LogLevel         slog.Level
	OTLPEndpoint     string
	// MetricsOperations, when set, are the only operation names with
	// metrics series of their own (env METRICS_OPERATIONS, comma-separated);
	// otherwise the first MetricsMaxOperations names seen
	// (METRICS_MAX_OPERATIONS).
	MetricsOperations    []string
	MetricsMaxOperations int

	Source           string
	ExpiryInterval   time.Duration
	SnapshotInterval time.Duration
	// ReclaimInterval is how often the reclaim job runs (RECLAIM_INTERVAL).
	ReclaimInterval  time.Duration
	StatementTimeout time.Duration
	LockTimeout      time.Duration
	// PlanCacheMode is PostgreSQL's plan_cache_mode for the server's
	// connections (PLAN_CACHE_MODE; empty: store.GenericPlans, auto on
	// Citus).
	PlanCacheMode  string
	RequestTimeout time.Duration
	MaxConns       int

	// Abuse limits of the GraphQL endpoint (see the README, Security).
	MaxBodyBytes  int64
	MaxDepth      int
	MaxComplexity int
	MaxAliases    int
	MaxTokens     int
	// MaxRepeatedFields bounds the fields under one name in one place.
	MaxRepeatedFields int

	// CORSAllowedOrigins are the browser origins (scheme://host[:port])
	// allowed to call /query from another origin; none by default, and
	// never a wildcard.
	CORSAllowedOrigins []string

	// DebugEndpoints serves development-only endpoints such as
	// GET /debug/statements (env DEBUG_ENDPOINTS, default false).
	DebugEndpoints bool

	// Events configures the outbox, subscriptions and webhooks (events.go).
	Events EventsConfig
}

// Load reads the environment. need says which settings the command needs
// (a token command needs no database).
func Load(needDatabase bool) (*Config, error) {
	var errs []error
	e := env{errs: &errs}
	c := &Config{
		DatabaseURL: os.Getenv("DATABASE_URL"),
		DevMode:     e.bool("DEV_MODE", false),
	}
	c.DatabaseAdminURL = e.str("DATABASE_ADMIN_URL", c.DatabaseURL)
	c.MigrateOnStart = e.bool("MIGRATE_ON_START", c.DevMode)
	c.Port = e.int("PORT", 8080)
	c.Host = e.str("HOST", "")
	if c.Host == "" && c.DevMode {
		c.Host = "127.0.0.1"
	}
	c.PlaygroundTenant = e.str("PLAYGROUND_TENANT", "demo")
	if v, set := os.LookupEnv("PLAYGROUND_TENANT"); set && strings.TrimSpace(v) == "" {
		// Set but empty is a mistake (make run TENANT=), not a wish for demo.
		errs = append(errs, errors.New("PLAYGROUND_TENANT is set but empty: name the tenant of the playground's development token, or unset it for demo"))
	}
	c.JWTSecret = e.str("JWT_SECRET", "")
	c.JWKSURL = e.str("JWT_JWKS_URL", "")
	c.JWTIssuer = e.str("JWT_ISSUER", "")
	c.JWTAudience = e.str("JWT_AUDIENCE", "")
	c.TenantClaim = e.str("JWT_TENANT_CLAIM", "tenant_id")
	c.AppClaim = e.str("JWT_APP_CLAIM", "app_id")
	c.JWTLeeway = e.duration("JWT_LEEWAY", 30*time.Second)
	c.JWKSRefresh = e.duration("JWT_JWKS_REFRESH", time.Hour)
	c.JWKSMinRefetch = e.duration("JWT_JWKS_MIN_REFETCH", time.Minute)
	c.Playground = e.bool("PLAYGROUND", c.DevMode)
	c.Introspection = e.bool("INTROSPECTION", c.DevMode)
	c.FieldSuggestions = e.bool("FIELD_SUGGESTIONS", c.DevMode)
	c.OTLPEndpoint = e.str("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	c.MetricsMaxOperations = e.positive("METRICS_MAX_OPERATIONS", 100)
	for _, op := range strings.Split(e.str("METRICS_OPERATIONS", ""), ",") {
		if op = strings.TrimSpace(op); op != "" {
			c.MetricsOperations = append(c.MetricsOperations, op)
		}
	}
	c.Source = e.str("RECORD_SOURCE", "edm")
	c.ExpiryInterval = e.duration("EXPIRY_INTERVAL", 30*time.Second)
	c.SnapshotInterval = e.duration("SNAPSHOT_INTERVAL", time.Hour)
	c.ReclaimInterval = e.duration("RECLAIM_INTERVAL", 10*time.Minute)
	c.StatementTimeout = e.duration("STATEMENT_TIMEOUT", 5*time.Second)
	c.LockTimeout = e.duration("LOCK_TIMEOUT", 2*time.Second)
	c.PlanCacheMode = e.str("PLAN_CACHE_MODE", "") // empty: the store's default
	switch c.PlanCacheMode {
	case "", "auto", store.GenericPlans, "force_custom_plan":
	default:
		errs = append(errs, fmt.Errorf("PLAN_CACHE_MODE: %q is not one of auto, force_generic_plan, force_custom_plan", c.PlanCacheMode))
	}
	c.RequestTimeout = e.duration("REQUEST_TIMEOUT", 15*time.Second)
	c.MaxConns = e.int("DATABASE_MAX_CONNS", 20)
	c.MaxBodyBytes = int64(e.positive("MAX_BODY_BYTES", 1<<20))
	lim := limits.Default()
	c.MaxDepth = e.positive("MAX_DEPTH", lim.MaxDepth)
	c.MaxComplexity = e.positive("MAX_COMPLEXITY", lim.MaxComplexity)
	c.MaxAliases = e.positive("MAX_ALIASES", lim.MaxAliases)
	c.MaxTokens = e.positive("MAX_TOKENS", 10000)
	c.MaxRepeatedFields = e.positive("MAX_REPEATED_FIELDS", 100)
	c.DebugEndpoints = e.bool("DEBUG_ENDPOINTS", false)
	c.CORSAllowedOrigins = e.origins("CORS_ALLOWED_ORIGINS")
	c.Events = e.events()

	if err := c.LogLevel.UnmarshalText([]byte(e.str("LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL: %q is not one of debug, info, warn, error", os.Getenv("LOG_LEVEL")))
	}
	if needDatabase && c.DatabaseURL == "" {
		errs = append(errs, errors.New("DATABASE_URL is required (make run and make test set it for a private development cluster)"))
	}
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("PORT: %d is not a TCP port", c.Port))
	}
	switch {
	case c.JWTSecret == "" && c.DevMode:
		c.JWTSecret = DevSecret
	case c.JWTSecret == "" && c.JWKSURL == "":
		errs = append(errs, ErrNoKey)
	case c.JWTSecret == DevSecret && !c.DevMode:
		errs = append(errs, errors.New("JWT_SECRET is the public development secret; set a real one or DEV_MODE=true"))
	case c.JWTSecret != "" && len(c.JWTSecret) < 32 && !c.DevMode:
		errs = append(errs, errors.New("JWT_SECRET must be at least 32 bytes"))
	}
	if c.JWTLeeway > 5*time.Minute {
		errs = append(errs, fmt.Errorf("JWT_LEEWAY: %s is more clock skew than is safe to tolerate (at most 5m)", c.JWTLeeway))
	}
	if c.JWKSURL != "" {
		if u, err := url.Parse(c.JWKSURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			errs = append(errs, fmt.Errorf("JWT_JWKS_URL: %q is not an http(s) URL", c.JWKSURL))
		} else if u.Scheme != "https" && !c.DevMode {
			errs = append(errs, fmt.Errorf("JWT_JWKS_URL: %q must use https outside DEV_MODE", c.JWKSURL))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("configuration: %w", errors.Join(errs...))
	}
	return c, nil
}

// AdminDatabaseURL is the owner connection (DATABASE_ADMIN_URL, else
// DATABASE_URL), for commands that need nothing else, such as apikey.
func AdminDatabaseURL() (string, error) {
	e := env{errs: new([]error)}
	if u := e.str("DATABASE_ADMIN_URL", os.Getenv("DATABASE_URL")); u != "" {
		return u, nil
	}
	return "", errors.New("configuration: DATABASE_ADMIN_URL (or DATABASE_URL) is required")
}

type env struct{ errs *[]error }

func (e env) str(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func (e env) bool(name string, def bool) bool {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(strings.ToLower(v))
	if err != nil {
		*e.errs = append(*e.errs, fmt.Errorf("%s: %q is not true or false", name, v))
	}
	return b
}

func (e env) int(name string, def int) int {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		*e.errs = append(*e.errs, fmt.Errorf("%s: %q is not a whole number", name, v))
	}
	return n
}

// positive reads a whole number that must be at least 1.
func (e env) positive(name string, def int) int {
	before := len(*e.errs)
	n := e.int(name, def)
	if n < 1 && len(*e.errs) == before {
		*e.errs = append(*e.errs, fmt.Errorf("%s: %d must be a positive whole number", name, n))
	}
	return n
}

// origins reads a comma-separated list of origins, each
// scheme://host[:port] with no path. A wildcard ("*", or a pattern such as
// https://*.example.com) is refused: it would let pages nobody listed read
// the answers of /query.
func (e env) origins(name string) []string {
	var out []string
	for _, o := range strings.Split(e.str(name, ""), ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if strings.Contains(o, "*") {
			*e.errs = append(*e.errs, fmt.Errorf("%s: %q: wildcards are not accepted (they would let web sites nobody "+
				"listed read the API's answers); list each frontend's origin, such as https://app.example.com", name, o))
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			*e.errs = append(*e.errs, fmt.Errorf("%s: %q is not an origin such as https://app.example.com", name, o))
			continue
		}
		out = append(out, strings.TrimSuffix(o, "/"))
	}
	return out
}

func (e env) duration(name string, def time.Duration) time.Duration {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		*e.errs = append(*e.errs, fmt.Errorf("%s: %q is not a positive duration such as 5s", name, v))
	}
	return d
}

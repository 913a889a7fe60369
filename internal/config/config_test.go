package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

// clean sets every variable Load reads to empty (unset, for Load) or
// unsets it, then sets the given ones.
func clean(t *testing.T, vars map[string]string) {
	for _, name := range []string{"DATABASE_URL", "DATABASE_ADMIN_URL", "DEV_MODE", "JWT_SECRET", "JWT_JWKS_URL",
		"JWT_ISSUER", "JWT_AUDIENCE", "JWT_LEEWAY", "JWT_JWKS_REFRESH", "JWT_JWKS_MIN_REFETCH", "PLAYGROUND",
		"INTROSPECTION", "FIELD_SUGGESTIONS", "MAX_BODY_BYTES", "MAX_DEPTH", "MAX_COMPLEXITY", "MAX_ALIASES",
		"MAX_TOKENS", "REQUEST_TIMEOUT", "STATEMENT_TIMEOUT", "PLAN_CACHE_MODE", "PORT", "HOST", "LOG_LEVEL", "CORS_ALLOWED_ORIGINS"} {
		t.Setenv(name, "")
	}
	// Set but empty is an error for PLAYGROUND_TENANT: unset it (t.Setenv
	// restores it after the test).
	t.Setenv("PLAYGROUND_TENANT", "")
	_ = os.Unsetenv("PLAYGROUND_TENANT")
	for k, v := range vars {
		t.Setenv(k, v)
	}
}

const secret = "a-production-secret-of-at-least-32-bytes"

// TestSecurityDefaults: production defaults are the safe ones, and
// DEV_MODE turns on only the conveniences it documents.
func TestSecurityDefaults(t *testing.T) {
	clean(t, map[string]string{"DATABASE_URL": "postgres://x", "JWT_SECRET": secret})
	c, err := Load(true)
	if err != nil {
		t.Fatal(err)
	}
	if c.Playground || c.Introspection || c.FieldSuggestions || c.DevMode {
		t.Errorf("production switches on: %+v", c)
	}
	if c.Host != "" {
		t.Errorf("HOST outside DEV_MODE: %q, want every interface", c.Host)
	}
	if c.MaxBodyBytes != 1<<20 || c.MaxDepth != 15 || c.MaxComplexity != 200000 || c.MaxAliases != 50 ||
		c.MaxTokens != 10000 || c.JWTLeeway != 30*time.Second || c.RequestTimeout != 15*time.Second ||
		c.StatementTimeout != 5*time.Second || c.LockTimeout != 2*time.Second || c.PlanCacheMode != "" || c.JWKSRefresh != time.Hour || c.JWKSMinRefetch != time.Minute {
		t.Errorf("defaults: %+v", c)
	}

	clean(t, map[string]string{"DATABASE_URL": "postgres://x", "DEV_MODE": "true"})
	if c, err = Load(true); err != nil {
		t.Fatal(err)
	}
	if !c.Playground || !c.Introspection || !c.FieldSuggestions || c.JWTSecret != DevSecret {
		t.Errorf("DEV_MODE: %+v", c)
	}
	// The development secret is public: only this machine may reach a
	// development server, unless HOST says otherwise.
	if c.Host != "127.0.0.1" {
		t.Errorf("HOST under DEV_MODE: %q, want 127.0.0.1", c.Host)
	}
	clean(t, map[string]string{"DATABASE_URL": "postgres://x", "DEV_MODE": "true", "HOST": "0.0.0.0"})
	if c, err = Load(true); err != nil || c.Host != "0.0.0.0" {
		t.Errorf("HOST=0.0.0.0 under DEV_MODE: %+v, %v", c, err)
	}
}

// TestSecurityValidation: each bad setting is refused at start with a
// message that names the variable and says what is wrong.
func TestSecurityValidation(t *testing.T) {
	for _, tc := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"MAX_DEPTH": "0"}, "MAX_DEPTH: 0 must be a positive whole number"},
		{map[string]string{"MAX_COMPLEXITY": "lots"}, `MAX_COMPLEXITY: "lots" is not a whole number`},
		{map[string]string{"MAX_ALIASES": "-5"}, "MAX_ALIASES: -5 must be a positive whole number"},
		{map[string]string{"MAX_BODY_BYTES": "1MB"}, `MAX_BODY_BYTES: "1MB" is not a whole number`},
		{map[string]string{"MAX_TOKENS": "0"}, "MAX_TOKENS: 0 must be a positive whole number"},
		{map[string]string{"JWT_LEEWAY": "10m"}, "JWT_LEEWAY: 10m0s is more clock skew than is safe"},
		{map[string]string{"JWT_LEEWAY": "soon"}, `JWT_LEEWAY: "soon" is not a positive duration`},
		{map[string]string{"JWT_JWKS_URL": "http://idp.example/jwks"}, "must use https outside DEV_MODE"},
		{map[string]string{"JWT_JWKS_URL": "idp.example/jwks"}, "is not an http(s) URL"},
		{map[string]string{"PLAN_CACHE_MODE": "generic"}, `PLAN_CACHE_MODE: "generic" is not one of auto, force_generic_plan, force_custom_plan`},
		{map[string]string{"FIELD_SUGGESTIONS": "maybe"}, `FIELD_SUGGESTIONS: "maybe" is not true or false`},
		{map[string]string{"JWT_SECRET": ""}, "JWT_SECRET or JWT_JWKS_URL is required"},
		{map[string]string{"JWT_SECRET": "short"}, "JWT_SECRET must be at least 32 bytes"},
		{map[string]string{"CORS_ALLOWED_ORIGINS": "https://a.example, app.example"}, `CORS_ALLOWED_ORIGINS: "app.example" is not an origin`},
		{map[string]string{"PLAYGROUND_TENANT": ""}, "PLAYGROUND_TENANT is set but empty"},
		{map[string]string{"PLAYGROUND_TENANT": "  "}, "PLAYGROUND_TENANT is set but empty"},
		{map[string]string{"CORS_ALLOWED_ORIGINS": "*"}, `CORS_ALLOWED_ORIGINS: "*": wildcards are not accepted`},
		{map[string]string{"CORS_ALLOWED_ORIGINS": "https://a.example, https://*.example.com"}, `CORS_ALLOWED_ORIGINS: "https://*.example.com": wildcards are not accepted`},
		{map[string]string{"CORS_ALLOWED_ORIGINS": "https://a.example/app"}, `CORS_ALLOWED_ORIGINS: "https://a.example/app" is not an origin`},
	} {
		vars := map[string]string{"DATABASE_URL": "postgres://x", "JWT_SECRET": secret}
		for k, v := range tc.vars {
			vars[k] = v
		}
		clean(t, vars)
		_, err := Load(true)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error saying %q", tc.vars, err, tc.want)
			continue
		}
		if n := strings.Count(err.Error(), "\n") + 1; n != 1 {
			t.Errorf("%v: %d errors reported, want 1: %v", tc.vars, n, err)
		}
	}

	clean(t, map[string]string{"DATABASE_URL": "postgres://x", "JWT_JWKS_URL": "https://idp.example/.well-known/jwks.json"})
	if _, err := Load(true); err != nil {
		t.Errorf("a JWKS URL alone: %v", err)
	}
}

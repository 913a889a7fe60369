package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"seatgraph/internal/apikey"
	"seatgraph/internal/apitest"
	"seatgraph/internal/auth"
	"seatgraph/internal/config"
	"seatgraph/internal/httpapi"
)

// TestPlaygroundToken: the playground page carries an all-scopes token only
// for a development server (DEV_MODE with the public development secret)
// asked from this machine (a loopback remote address) by a loopback name
// (so a rebound DNS name does not get one); every other page has none.
func TestPlaygroundToken(t *testing.T) {
	db := apitest.DB(t)
	const real = "a-production-secret-of-at-least-32-bytes"
	// page loads / from the server seatgraph serve would build from env.
	page := func(env map[string]string, remote, host string) string {
		t.Helper()
		for _, name := range []string{"DEV_MODE", "JWT_SECRET", "JWT_JWKS_URL", "PLAYGROUND", "HOST", "CORS_ALLOWED_ORIGINS"} {
			t.Setenv(name, "")
		}
		t.Setenv("DATABASE_URL", db.AppURL)
		for k, v := range env {
			t.Setenv(k, v)
		}
		cfg, err := config.Load(true)
		if err != nil {
			t.Fatal(err)
		}
		verifier, err := auth.NewVerifier(t.Context(), auth.JWTConfig{Secret: []byte(cfg.JWTSecret)})
		if err != nil {
			t.Fatal(err)
		}
		sdb := db.Open(t)
		h := httpapi.New(sdb, &auth.Authenticator{JWT: verifier, Keys: apikey.NewStore(sdb.Bun())},
			slog.New(slog.NewTextHandler(io.Discard, nil)), httpOptions(cfg, nil, nil))
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr, req.Host = remote, host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "playground.js") {
			t.Fatalf("GET / (%v, from %s, Host %s): status %d, %.200q", env, remote, host, rec.Code, rec.Body.String())
		}
		return rec.Body.String()
	}
	dev := map[string]string{"DEV_MODE": "true"}
	for _, c := range []struct{ remote, host string }{
		{"127.0.0.1:40000", "localhost:8080"}, {"127.0.0.1:40000", "127.0.0.1:8080"},
		{"[::1]:40000", "[::1]:8080"}, {"127.0.0.1:40000", "LOCALHOST"}, {"127.0.0.1:40000", "127.0.0.1"},
	} {
		if p := page(dev, c.remote, c.host); !strings.Contains(p, "Bearer ey") {
			t.Errorf("DEV_MODE, from %s, Host %s: no development token in the page", c.remote, c.host)
		}
	}
	for _, c := range []struct {
		why          string
		env          map[string]string
		remote, host string
	}{
		{"without DEV_MODE", map[string]string{"PLAYGROUND": "true", "JWT_SECRET": real}, "127.0.0.1:40000", "localhost:8080"},
		{"from another machine", map[string]string{"DEV_MODE": "true", "HOST": "0.0.0.0"}, "192.0.2.7:40000", "localhost:8080"},
		{"from another machine by its address", dev, "10.1.2.3:40000", "10.0.0.5:8080"},
		{"for another Host (DNS rebinding)", dev, "127.0.0.1:40000", "rebind.evil.example:8080"},
		{"for a Host that only starts like localhost", dev, "127.0.0.1:40000", "localhost.evil.example"},
		{"with a real secret", map[string]string{"DEV_MODE": "true", "JWT_SECRET": real}, "127.0.0.1:40000", "localhost:8080"},
	} {
		if p := page(c.env, c.remote, c.host); strings.Contains(p, "Bearer") || strings.Contains(p, "Authorization") {
			t.Errorf("%s: the page holds a token", c.why)
		}
	}
}

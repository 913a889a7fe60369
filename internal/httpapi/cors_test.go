package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"seatgraph/internal/apitest"
)

// TestCORS: a frontend on an allowed origin passes the preflight and reads
// the answer; any other origin gets no CORS header, so its browser keeps
// the answer from it; CSRF prevention still refuses a simple cross-site
// post.
func TestCORS(t *testing.T) {
	const app, evil = "https://app.example", "https://evil.example"
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) {
		c.HTTP.CORSOrigins = []string{app, "http://localhost:5173"}
		c.HTTP.Playground, c.HTTP.Debug = true, true
	})
	tok := apitest.Token(t, apitest.Tenant("cors"))

	send := func(method, origin, contentType, body string, header map[string]string) *http.Response {
		t.Helper()
		h := map[string]string{"Origin": origin}
		if contentType != "" {
			h["Content-Type"] = contentType
		}
		for k, v := range header {
			h[k] = v
		}
		return do(t, method, srv.URL+"/query", body, h)
	}
	preflight := map[string]string{"Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": "authorization, content-type"}

	t.Run("preflight from an allowed origin", func(t *testing.T) {
		resp := send(http.MethodOptions, app, "", "", preflight)
		if resp.StatusCode/100 != 2 {
			t.Errorf("status %d", resp.StatusCode)
		}
		h := resp.Header
		if got := h.Get("Access-Control-Allow-Origin"); got != app {
			t.Errorf("Access-Control-Allow-Origin %q, want %q", got, app)
		}
		allowed := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
		for _, want := range []string{"authorization", "content-type"} {
			if !strings.Contains(allowed, want) {
				t.Errorf("Access-Control-Allow-Headers %q lacks %s", allowed, want)
			}
		}
		if !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
			t.Errorf("Access-Control-Allow-Methods %q lacks POST", h.Get("Access-Control-Allow-Methods"))
		}
		if h.Get("Access-Control-Allow-Credentials") != "" {
			t.Error("credentialed CORS is on; credentials travel in the Authorization header")
		}
	})

	t.Run("preflight from another origin", func(t *testing.T) {
		resp := send(http.MethodOptions, evil, "", "", preflight)
		for name := range resp.Header {
			if strings.HasPrefix(name, "Access-Control-Allow-") {
				t.Errorf("%s: %q sent to an origin that is not allowed", name, resp.Header.Get(name))
			}
		}
	})

	body := `{"query":"{ viewer { tenantId } }"}`
	auth := map[string]string{"Authorization": "Bearer " + tok}
	t.Run("query from an allowed origin", func(t *testing.T) {
		resp := send(http.MethodPost, app, "application/json", body, auth)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != app {
			t.Errorf("status %d, Access-Control-Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
		if !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "X-Request-Id") {
			t.Errorf("Access-Control-Expose-Headers %q lacks X-Request-Id", resp.Header.Get("Access-Control-Expose-Headers"))
		}
	})

	t.Run("query from another origin", func(t *testing.T) {
		resp := send(http.MethodPost, evil, "application/json", body, auth)
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("Access-Control-Allow-Origin %q for an origin that is not allowed", got)
		}
	})

	// Only /query is open to the allowed origins: the playground page (with
	// its token), the metrics, the health and debug answers stay unreadable
	// to a page on another origin.
	t.Run("nothing but /query", func(t *testing.T) {
		for _, path := range []string{"/", "/playground/playground.js", "/metrics", "/readyz", "/healthz", "/debug/statements"} {
			resp := do(t, http.MethodGet, srv.URL+path, "", map[string]string{"Origin": app})
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s: status %d", path, resp.StatusCode)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("GET %s from %s: Access-Control-Allow-Origin %q", path, app, got)
			}
		}
	})

	t.Run("CSRF prevention stays", func(t *testing.T) {
		resp := send(http.MethodPost, app, "text/plain", body, auth)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("a simple text/plain post from an allowed origin: status %d, want 400", resp.StatusCode)
		}
	})
}

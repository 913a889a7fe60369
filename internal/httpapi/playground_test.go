package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"seatgraph/internal/apitest"
)

// TestPlaygroundServed: with the playground on, / is the GraphiQL page
// (with a Content-Security-Policy that keeps it on this server) and its
// assets come from the binary; every asset path, even a made-up one, is
// one metrics label.
func TestPlaygroundServed(t *testing.T) {
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) { c.HTTP.Playground = true })
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		return resp, string(body)
	}
	resp, page := get("/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `src="/playground/playground.js"`) ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("GET /: status %d, CSP %q, page %.200q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"), page)
	}
	if resp, js := get("/playground/playground.js"); resp.StatusCode != http.StatusOK || len(js) < 100_000 ||
		!strings.Contains(resp.Header.Get("Content-Type"), "javascript") {
		t.Errorf("GET /playground/playground.js: status %d, %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(js))
	}
	// The assets carry a validator: a browser that has them asks again and
	// gets 304, not the megabytes.
	resp, _ = get("/playground/playground.js")
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Errorf("GET /playground/playground.js: no ETag")
	} else {
		if again := do(t, http.MethodGet, srv.URL+"/playground/playground.js", "", map[string]string{"If-None-Match": etag}); again.StatusCode != http.StatusNotModified {
			t.Errorf("GET /playground/playground.js with If-None-Match %s: status %d, want 304", etag, again.StatusCode)
		}
	}
	// No listing of the folder.
	for _, p := range []string{"/playground/", "/playground/nothing-1.js", "/playground/nothing-2.js"} {
		if resp, _ := get(p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, resp.StatusCode)
		}
	}
	_, metrics := get("/metrics")
	if !strings.Contains(metrics, `path="/playground/"`) || strings.Contains(metrics, "nothing-1") {
		t.Errorf("the playground's assets are not one metrics label:\n%s", grep(metrics, "playground"))
	}
}

// do sends a request with the given headers; the body of the response is
// read and closed.
func do(t *testing.T, method, url, body string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp
}

func grep(text, word string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

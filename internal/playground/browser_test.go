package playground_test

import (
	"context"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"seatgraph/internal/apitest"
	"seatgraph/internal/auth"
)

// chromium finds a headless Chromium with scripts/chromium.sh: the one in
// CHROMIUM_BIN (make test installs it, when missing, before go test
// starts), or one on PATH, or Debian's chromium package it installs.
func chromium(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("../../scripts/chromium.sh").Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("no Chromium for the playground test: %s", msg)
	}
	return strings.TrimSpace(string(out))
}

// TestPlaygroundInABrowser loads the playground in headless Chromium with
// every request to a host other than the test server's refused, runs
// { viewer { tenantId } } with the token the Headers tab starts with, and
// reads the answer from the page.
func TestPlaygroundInABrowser(t *testing.T) {
	tenant := apitest.Tenant("playground")
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) {
		c.HTTP.Playground = true
		c.HTTP.PlaygroundHeaders = func() (map[string]string, error) {
			return map[string]string{"Authorization": "Bearer " + apitest.TokenFor(t,
				auth.TokenRequest{Tenant: tenant, Subject: "dev-admin"})}, nil
		}
	})
	base, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// No name resolves but the loopback's, so even a request that
		// slipped past the interception below could not leave.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	// A guard against a hung browser, not a measurement.
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelTimeout()

	// Every request the page makes is paused here: the test server's go
	// on, anything else is refused and remembered.
	var mu sync.Mutex
	var elsewhere []string
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			u, perr := url.Parse(ev.Request.URL)
			if perr == nil && (u.Scheme == "data" || u.Scheme == "blob" || u.Host == base.Host) {
				_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
				continue
			}
			mu.Lock()
			elsewhere = append(elsewhere, ev.Request.URL)
			mu.Unlock()
			_, _ = chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID,
				ErrorReason: network.ErrorReasonBlockedByClient})
		}
	}()
	// The page's Content-Security-Policy stops a reference to another host
	// before it becomes a request; the browser reports that on the console.
	var refused []string
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if strings.Contains(m.Text, "Content Security Policy") {
				mu.Lock()
				refused = append(refused, m.Text)
				mu.Unlock()
			}
		}
	}()
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{}); err != nil {
		t.Fatalf("intercepting requests: %v", err)
	}

	query := "{ viewer { tenantId } }"
	wait := chromedp.WithPollingTimeout(30 * time.Second)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/?query="+url.QueryEscape(query)),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-execute-button")),
	); err != nil {
		t.Fatalf("loading the playground: %v", err)
	}
	// The Headers tab holds the development token the server put there.
	headers, err := chromedp.Run(ctx, chromedp.Poll[string](
		`(() => { const h = document.querySelector('.graphiql-editor-tool'); return h && h.innerText.includes('Bearer') ? h.innerText : false })()`, wait))
	if err != nil {
		t.Fatalf("reading the Headers tab: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".graphiql-execute-button"))); err != nil {
		t.Fatalf("running the query: %v", err)
	}
	answer, err := chromedp.Run(ctx, chromedp.Poll[string](
		`(() => { const r = document.querySelector('.graphiql-response'); return r && r.innerText.includes('tenantId') ? r.innerText : false })()`, wait))
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	// Monaco renders spaces as no-break spaces and wraps long lines.
	headers = strings.Join(strings.Fields(headers), " ")
	answer = strings.Join(strings.Fields(answer), " ")
	if !strings.Contains(headers, "Authorization") || !strings.Contains(headers, "Bearer ey") {
		t.Errorf("the Headers tab does not start with the development token: %q", headers)
	}
	if !strings.Contains(answer, `"tenantId": "`+tenant+`"`) {
		t.Errorf("the response pane shows %q, want the tenant %q", answer, tenant)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(elsewhere) > 0 {
		t.Errorf("the playground asked hosts other than its server for: %s", strings.Join(elsewhere, ", "))
	}
	if len(refused) > 0 {
		t.Errorf("the page tried to load what its Content-Security-Policy refuses: %s", strings.Join(refused, "\n"))
	}
}

package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"seatgraph/internal/apitest"
	"seatgraph/internal/limits"
)

// scrape reads /metrics and returns the number of series (sample lines)
// and the body's size.
func scrape(t *testing.T, srv *apitest.Server) (series, size int) {
	t.Helper()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	for _, line := range strings.Split(string(body), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			series++
		}
	}
	return series, len(body)
}

func randomToken(r *rand.Rand, n int) string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[r.IntN(len(letters))]
	}
	return string(b)
}

// hostile sends n requests with random methods, n to random paths and n
// GraphQL operations with random names.
func hostile(t *testing.T, srv *apitest.Server, tok string, r *rand.Rand, n int) {
	t.Helper()
	for range n {
		for _, req := range []*http.Request{
			mustRequest(t, "X"+randomToken(r, 10), srv.URL+"/query", nil),
			mustRequest(t, http.MethodGet, srv.URL+"/"+randomToken(r, 12)+"/"+randomToken(r, 8), nil),
			mustRequest(t, http.MethodPost, srv.URL+"/query",
				jsonBody("query Op"+randomToken(r, 12)+" { licenses(first: 1) { totalCount } }", nil)),
		} {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
	}
}

func mustRequest(t *testing.T, method, url string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestMetricsLabelsBounded (issue 10 item 1): hostile methods, paths and
// operation names do not grow /metrics. The first hostile round may fill
// the bounded sets (the known operation names, up to their cap); after
// it, a round four times larger adds no series.
func TestMetricsLabelsBounded(t *testing.T) {
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) { c.HTTP.MaxOperationNames = 5 })
	tok := apitest.Token(t, apitest.Tenant("bounds"))
	r := rand.New(rand.NewPCG(1, 2))
	base, baseSize := scrape(t, srv)
	hostile(t, srv, tok, r, 25)
	warm, warmSize := scrape(t, srv)
	hostile(t, srv, tok, r, 100)
	after, afterSize := scrape(t, srv)
	t.Logf("series: %d at start, %d after 25×3 hostile requests, %d after 100×3 more; /metrics bytes: %d, %d, %d",
		base, warm, after, baseSize, warmSize, afterSize)
	if after != warm {
		t.Errorf("hostile requests grew /metrics from %d to %d series", warm, after)
	}
}

// TestTimedOutRequestLogsOnce (issue 10 item 5): a request whose many
// fields fail because it timed out writes one log line, carrying the
// failure's count, not one line per failed field.
func TestTimedOutRequestLogsOnce(t *testing.T) {
	var buf lockedBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) {
		c.Log = log
		c.HTTP.RequestTimeout = time.Second
		c.HTTP.Limits = limits.Limits{MaxAliases: 1000}
	})
	tok := apitest.Token(t, apitest.Tenant("timeout"))
	const fields = 200
	var q strings.Builder
	q.WriteString("{")
	for i := range fields {
		fmt.Fprintf(&q, " a%d: licenses(first: 1, filter: {search: \"x%d\"}) { nodes { id } }", i, i)
	}
	q.WriteString(" }")

	// A lock held on licenses makes the request wait until it times out.
	super := apitest.DB(t).SQL(t)
	ctx := context.Background()
	lock, err := super.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.ExecContext(ctx, "LOCK TABLE licenses IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	req := mustRequest(t, http.MethodPost, srv.URL+"/query", jsonBody(q.String(), nil))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Request-ID", "timed-out-request")
	resp := srv.Send(t, req)
	_ = lock.Rollback()
	if resp.Status != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503: %s", resp.Status, resp.Raw)
	}
	// The handler goes on after the 503 until its fields have failed; wait
	// (without timing anything) for its work to end.
	var lines []map[string]any
	for range 300 {
		lines = buf.linesOf("timed-out-request")
		done := false
		for _, l := range lines {
			if l["msg"] == "request" && l["operation_type"] != nil {
				done = true
			}
		}
		if done {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // let any straggling line arrive
	lines = buf.linesOf("timed-out-request")
	t.Logf("log lines for one timed-out request with %d fields: %d", fields, len(lines))
	if len(lines) != 1 {
		for i, l := range lines {
			if i < 3 {
				t.Logf("line: %v", l)
			}
		}
		t.Fatalf("the timed-out request wrote %d log lines, want 1", len(lines))
	}
	line := lines[0]
	t.Logf("the line: %v", line)
	if line["level"] != "ERROR" || line["status"] != float64(http.StatusServiceUnavailable) {
		t.Errorf("request line %v: want level ERROR and status 503", line)
	}
	codes, _ := line["error_codes"].(map[string]any)
	if codes["INTERNAL_SERVER_ERROR"] != float64(fields) || line["timed_out"] != true {
		t.Errorf("request line counts %v INTERNAL_SERVER_ERROR, want %d, and timed_out", codes["INTERNAL_SERVER_ERROR"], fields)
	}
	// The fields' failures are folded into the line's problems: each
	// distinct error once, with its text and count.
	problems, _ := line["problems"].([]any)
	failures := 0
	for _, p := range problems {
		p, _ := p.(map[string]any)
		count, _ := p["count"].(float64)
		if p["msg"] == "resolver failed" || p["msg"] == "other problems" {
			failures += int(count)
		}
		if text, _ := p["error"].(string); p["msg"] == "resolver failed" && (text == "" || count < 1) {
			t.Errorf("a folded failure lacks its error text or count: %v", p)
		}
	}
	if failures < fields {
		t.Errorf("the line's problems count %d failed fields, want %d: %v", failures, fields, problems)
	}
	// The fields fail over one or two causes: the problems name them
	// within the cap, not one entry per field.
	if len(problems) >= 10 {
		t.Errorf("the fields' failures were not folded by cause: %d problems: %v", len(problems), problems)
	}
	// The client saw one 503 SERVICE_UNAVAILABLE, not the fields' errors
	// the handler produced after it: the error metric counts what was
	// answered.
	scraped, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(scraped.Body)
	_ = scraped.Body.Close()
	if n := metricValue(t, string(body), `seatgraph_graphql_errors_total{code="SERVICE_UNAVAILABLE"}`); n != 1 {
		t.Errorf("seatgraph_graphql_errors_total{code=SERVICE_UNAVAILABLE} = %v, want 1", n)
	}
	if n := metricValue(t, string(body), `seatgraph_graphql_errors_total{code="INTERNAL_SERVER_ERROR"}`); n > 0 {
		t.Errorf("seatgraph_graphql_errors_total{code=INTERNAL_SERVER_ERROR} = %v after a timeout, want none", n)
	}
}

// lockedBuffer is a log sink that tests read while the server writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// linesOf returns the JSON log lines of the request with id.
func (b *lockedBuffer) linesOf(id string) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, s := range strings.Split(b.buf.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(s), &m) == nil && m["request_id"] == id {
			out = append(out, m)
		}
	}
	return out
}

package httpapi_test

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"seatgraph/internal/apitest"
)

// maxLoggedName is the longest operation name logs and spans carry: 64
// bytes of the name and "…".
const maxLoggedName = 64 + len("…")

// TestOperationNamesCleaned: an operation name of invalid UTF-8, or of
// 200,000 bytes, or cut inside a character, reaches neither logs nor
// spans as sent: logs get it as valid UTF-8 cut short on a character
// boundary; spans get only a name that names an operation of the
// document, cut likewise, so the exporter never drops a batch over it. A
// request with an invented HTTP method gets a span named like the
// metrics label it, "other /query".
func TestOperationNamesCleaned(t *testing.T) {
	var logs lockedBuffer
	srv, tracing, rc := tracedServer(t, func(c *apitest.ServerConfig) {
		c.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	tok := apitest.Token(t, apitest.Tenant("opnames"))
	send := func(method, target string, body []byte, id, traceID string) {
		t.Helper()
		req := mustRequest(t, method, target, body)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-Request-ID", id)
		req.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
		srv.Send(t, req)
	}
	named := func(query, operationName string) []byte {
		b, _ := json.Marshal(map[string]any{"query": query, "operationName": operationName})
		return b
	}
	const (
		badUTF8Trace   = "10000000000000000000000000000001"
		splitTrace     = "10000000000000000000000000000002"
		longKnownTrace = "10000000000000000000000000000003"
		oddMethodTrace = "10000000000000000000000000000004"
	)
	// Invalid UTF-8, in a GET request's query string.
	send(http.MethodGet, srv.URL+"/query?query=%7B__typename%7D&operationName=%FF%FEx", nil, "bad-utf8", badUTF8Trace)
	// 200,001 bytes naming no operation of the document; a cut at byte 64
	// would split an "é".
	split := "x" + strings.Repeat("é", 100000)
	send(http.MethodPost, srv.URL+"/query", named("query Known { __typename }", split), "split-name", splitTrace)
	// 200,001 bytes naming the document's operation.
	longKnown := "Op" + strings.Repeat("x", 199999)
	send(http.MethodPost, srv.URL+"/query", jsonBody("query "+longKnown+" { __typename }", nil), "long-known", longKnownTrace)
	send("XFOOBAR", srv.URL+"/query", jsonBody("{ __typename }", nil), "odd-method", oddMethodTrace)
	if err := tracing.Flush(t.Context()); err != nil {
		t.Errorf("exporting the spans failed: %v", err)
	}

	for id, want := range map[string]string{"bad-utf8": "\ufffdx", "split-name": split[:63] + "…",
		"long-known": longKnown[:64] + "…"} {
		lines := logs.linesOf(id)
		if len(lines) != 1 {
			t.Fatalf("request %s wrote %d lines, want 1", id, len(lines))
		}
		op, _ := lines[0]["operation"].(string)
		if op != want || len(op) > maxLoggedName {
			t.Errorf("request %s logged operation %.100q (%d bytes), want %q", id, op, len(op), want)
		}
	}

	spans := func(traceID string) *tree {
		t.Helper()
		id, _ := hex.DecodeString(traceID)
		tr := rc.trace(id)
		if tr.root == nil {
			t.Fatalf("trace %s never reached the collector", traceID)
		}
		return tr
	}
	for _, traceID := range []string{badUTF8Trace, splitTrace} {
		for _, s := range spans(traceID).byID {
			if attr(s, "graphql.operation.name") != nil || strings.ContainsAny(s.Name, "é\ufffd") {
				t.Errorf("trace %s: span %.80q carries an operation name the document does not have", traceID, s.Name)
			}
		}
	}
	op := spans(longKnownTrace).find(spans(longKnownTrace).root, "query "+longKnown[:64]+"…")
	if name := attr(op, "graphql.operation.name").GetStringValue(); op == nil || name != longKnown[:64]+"…" {
		t.Errorf("the long operation's span should carry its name cut to 64 bytes: %v", spanNames(spans(longKnownTrace)))
	}
	if root := spans(oddMethodTrace).root; root.Name != "other /query" {
		t.Errorf("a request with an invented method made a span named %q, want \"other /query\"", root.Name)
	}
}

func spanNames(tr *tree) []string {
	var out []string
	for _, s := range tr.byID {
		n := s.Name
		if len(n) > 80 {
			n = n[:80] + "…"
		}
		out = append(out, n)
	}
	return out
}

// TestSQLErrorsWithoutValues: a statement PostgreSQL refuses over a
// caller's value (a forged cursor holding "SECRET-not-a-time" where a
// timestamp belongs: 22007) is recorded in its span and its debug line by
// SQLSTATE only; PostgreSQL's message, which quotes the value, is not.
func TestSQLErrorsWithoutValues(t *testing.T) {
	var logs lockedBuffer
	srv, tracing, rc := tracedServer(t, func(c *apitest.ServerConfig) {
		c.Log = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	tenant := apitest.Tenant("sqlerrors")
	apitest.NewFixture(t, srv.DB, tenant).License("Refused", 1)
	tok := apitest.Token(t, tenant)
	const secret = "SECRET-not-a-time"
	key, _ := json.Marshal(map[string]any{"o": "licenses.CREATED.asc", "v": secret, "i": uuid.NewString()})
	forged := base64.RawURLEncoding.EncodeToString(key)
	req := mustRequest(t, http.MethodPost, srv.URL+"/query", jsonBody(
		`query($c: String) { licenses(first: 1, after: $c, orderBy: {field: CREATED}) { nodes { id } } }`,
		map[string]any{"c": forged}))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Request-ID", "sql-error")
	const traceID = "20000000000000000000000000000001"
	req.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	if resp := srv.Send(t, req); len(resp.Errors) == 0 {
		t.Fatalf("the forged cursor was not refused: %s", resp.Raw)
	}
	if err := tracing.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}

	failed := 0
	for _, l := range logs.linesOf("sql-error") {
		if l["msg"] != "sql" || l["error"] == nil {
			continue
		}
		failed++
		if l["error"] != "SQLSTATE 22007" {
			t.Errorf("debug line of the failed statement: error %q, want only its SQLSTATE", l["error"])
		}
	}
	id, _ := hex.DecodeString(traceID)
	var errSpans []*tracepb.Span
	for _, s := range rc.trace(id).byID {
		if s.Status.GetCode() == tracepb.Status_STATUS_CODE_ERROR && strings.HasPrefix(s.Name, "sql ") {
			errSpans = append(errSpans, s)
		}
		text := s.Status.GetMessage()
		for _, a := range s.Attributes {
			text += " " + a.Value.GetStringValue()
		}
		if strings.Contains(text, secret) {
			t.Errorf("span %s carries the caller's value: %s", s.Name, text)
		}
	}
	if failed == 0 || len(errSpans) == 0 {
		t.Fatalf("want the failed statement in a debug line and a span marked Error: %d, %d", failed, len(errSpans))
	}
	if s := errSpans[0]; s.Status.GetMessage() != "SQLSTATE 22007" || attr(s, "db.response.status_code").GetStringValue() != "22007" {
		t.Errorf("the failed statement's span: status %q, db.response.status_code %v; want its SQLSTATE",
			s.Status.GetMessage(), attr(s, "db.response.status_code"))
	}
}

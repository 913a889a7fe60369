package httpapi_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"seatgraph/internal/apitest"
)

// TestErrorsCapped: a document that makes thousands of errors is
// answered with a bounded list, the last entry saying more were left out,
// so a small request cannot make a large response.
func TestErrorsCapped(t *testing.T) {
	srv := apitest.NewServer(t)
	tok := apitest.Token(t, apitest.Tenant("cap"))
	query := "{ __typename" + strings.Repeat(" @x", 3000) + " }"
	r := request{ctype: appJSON, accept: gqlResponse, body: jsonBody(query, nil)}.send(t, srv, tok)
	t.Logf("%d-byte document with 3,000 unknown directives: %d errors, %d response bytes", len(query), len(r.Errors), len(r.Raw))
	if r.Status != 400 || len(r.Errors) != 51 {
		t.Fatalf("got %d with %d errors, want 400 with 50 errors and a last one saying more were left out", r.Status, len(r.Errors))
	}
	last := r.Errors[50]
	if !strings.Contains(last.Message, "too many errors") || last.Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" {
		t.Errorf("the last error is %+v, want a GRAPHQL_VALIDATION_FAILED saying there were too many errors", last)
	}
}

// BenchmarkRepeatedFields is the time the server takes to answer the
// 27 KB document of 9,000 repeated fields (the validator's check that
// repeated fields agree is quadratic in their number), each time a new
// document (a cached one is not validated again).
func BenchmarkRepeatedFields(b *testing.B) {
	srv := apitest.NewServer(b)
	tok := apitest.Token(b, apitest.Tenant("bench"))
	i := 0
	for b.Loop() {
		// A comment makes each document new to the server's query cache.
		i++
		body := jsonBody(repeatedFields(9000)+fmt.Sprintf(" # %d", i), nil)
		r := srv.Send(b, requestOf(b, srv, tok, body))
		if r.Status != http.StatusOK && r.Status != http.StatusBadRequest {
			b.Fatalf("%d %s", r.Status, r.Raw)
		}
	}
}

func requestOf(b testing.TB, srv *apitest.Server, tok string, body []byte) *http.Request {
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/query", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", appJSON)
	req.Header.Set("Authorization", "Bearer "+tok)
	return req
}

// TestStalledBody: a client that stops sending its request body gets an
// answer, 408 with a JSON error, before its connection is closed.
func TestStalledBody(t *testing.T) {
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) { c.HTTP.RequestTimeout = 2 * time.Second })
	tok := apitest.Token(t, apitest.Tenant("stall"))
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The headers promise 100 bytes; 10 come, then nothing.
	fmt.Fprintf(conn, "POST /query HTTP/1.1\r\nHost: seatgraph\r\nContent-Type: application/json\r\n"+
		"Authorization: Bearer %s\r\nContent-Length: 100\r\n\r\n{\"query\":", tok)
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer before the connection closed: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), `"code":"BAD_REQUEST"`) {
		t.Errorf("got %d %s, want 408 with a BAD_REQUEST error", resp.StatusCode, body)
	}
}

// TestBodyAfterCredentials: the body is read only after the credentials
// are checked. A caller with bad credentials that stalls its body is
// refused 401 at once (it is not kept waiting for, nor answered 408); a
// caller without credentials may send only a small body (64 KiB), one
// with credentials the full MAX_BODY_BYTES.
func TestBodyAfterCredentials(t *testing.T) {
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) { c.HTTP.RequestTimeout = 2 * time.Second })
	tok := apitest.Token(t, apitest.Tenant("early"))
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /query HTTP/1.1\r\nHost: seatgraph\r\nContent-Type: application/json\r\n"+
		"Authorization: Bearer not-a-token\r\nContent-Length: 100\r\n\r\n{\"query\":")
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer before the connection closed: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"code":"UNAUTHENTICATED"`) {
		t.Errorf("bad credentials with a stalled body: got %d %s, want 401 UNAUTHENTICATED", resp.StatusCode, body)
	}

	padded := jsonBody("{ __typename }"+strings.Repeat(" ", 100<<10), nil)
	if r := (request{ctype: appJSON, body: padded}).send(t, srv, ""); r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("a 100 KiB body without credentials: got %d %.200s, want 413", r.Status, r.Raw)
	}
	if r := (request{ctype: appJSON, body: padded}).send(t, srv, tok); r.Status != http.StatusOK {
		t.Errorf("a 100 KiB body with credentials: got %d %.200s, want 200", r.Status, r.Raw)
	}
}

// TestTimedOutRequest: a request still running at REQUEST_TIMEOUT gets
// the retryable answer, 503 SERVICE_UNAVAILABLE with Retry-After.
func TestTimedOutRequest(t *testing.T) {
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) { c.HTTP.RequestTimeout = 300 * time.Millisecond })
	tok := apitest.Token(t, apitest.Tenant("slow"))
	// A schema change holding the licenses table makes the read wait.
	lock, err := apitest.DB(t).SQL(t).Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback() //nolint:errcheck
	if _, err := lock.Exec("LOCK TABLE licenses IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	r := srv.Send(t, requestOf(t, srv, tok, jsonBody(`{ licenses { totalCount } }`, nil)))
	if r.Status != http.StatusServiceUnavailable || len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "SERVICE_UNAVAILABLE" ||
		r.Header.Get("Retry-After") == "" {
		t.Errorf("got %d %s (Retry-After %q), want 503 SERVICE_UNAVAILABLE with Retry-After", r.Status, r.Raw, r.Header.Get("Retry-After"))
	}
}

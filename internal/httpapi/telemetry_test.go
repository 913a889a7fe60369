package httpapi_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"seatgraph/internal/apitest"
	"seatgraph/internal/gid"
)

// post sends a GraphQL request with a request id and returns the response.
func post(t *testing.T, srv *apitest.Server, token, id, query string, vars map[string]any) *apitest.Response {
	t.Helper()
	req := mustRequest(t, http.MethodPost, srv.URL+"/query", jsonBody(query, vars))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("X-Request-ID", id)
	return srv.Send(t, req)
}

// TestRequestLogLine: every request writes one line naming its operation
// and type, tenant, subject, status, duration, error codes with counts and
// its SQL statements and time; LOG_LEVEL=debug adds a line per statement,
// its text without values.
func TestRequestLogLine(t *testing.T) {
	var buf lockedBuffer
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) {
		c.Log = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	tenant := apitest.Tenant("logline")
	f := apitest.NewFixture(t, srv.DB, tenant)
	f.License("Logged", 3)
	tok := apitest.Token(t, tenant)

	post(t, srv, tok, "ok-1", `query Licenses { licenses(first: 2) { nodes { name } } }`, nil)
	post(t, srv, tok, "invalid-1", `query Broken { licenses { nope } }`, nil)
	post(t, srv, "not-a-token", "unauth-1", `{ licenses { totalCount } }`, nil)

	one := func(id string) map[string]any {
		t.Helper()
		lines := buf.linesOf(id)
		if len(lines) != 1 {
			t.Fatalf("request %s wrote %d lines, want 1: %v", id, len(lines), lines)
		}
		return lines[0]
	}
	ok := one("ok-1")
	for k, want := range map[string]any{"msg": "request", "level": "INFO", "operation": "Licenses", "operation_type": "query",
		"tenant": tenant, "subject": "test-user", "status": float64(200), "path": "/query", "method": "POST"} {
		if ok[k] != want {
			t.Errorf("ok request: %s = %v, want %v (line %v)", k, ok[k], want, ok)
		}
	}
	if n, _ := ok["sql_statements"].(float64); n < 1 || ok["sql_ms"] == nil || ok["duration_ms"] == nil || ok["error_codes"] != nil {
		t.Errorf("ok request: want SQL statements and time, a duration and no error codes: %v", ok)
	}
	invalid := one("invalid-1")
	if codes, _ := invalid["error_codes"].(map[string]any); codes["GRAPHQL_VALIDATION_FAILED"] != float64(1) ||
		invalid["errors"] != float64(1) {
		t.Errorf("a validation failure should log its code and count: %v", invalid)
	}
	unauth := one("unauth-1")
	if codes, _ := unauth["error_codes"].(map[string]any); codes["UNAUTHENTICATED"] != float64(1) ||
		unauth["status"] != float64(401) || !strings.Contains(fmt.Sprint(unauth["problems"]), "credentials refused") {
		t.Errorf("a refused credential should log 401 and UNAUTHENTICATED: %v", unauth)
	}

	var dbg lockedBuffer
	debug := apitest.NewServer(t, func(c *apitest.ServerConfig) {
		c.Log = slog.New(slog.NewJSONHandler(&dbg, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	post(t, debug, tok, "debug-1", `query Licenses { licenses(first: 2, filter: {search: "Logged"}) { nodes { name } } }`, nil)
	var statements []string
	requests := 0
	for _, l := range dbg.linesOf("debug-1") {
		switch l["msg"] {
		case "sql":
			statements = append(statements, l["statement"].(string))
		case "request":
			requests++
		}
	}
	if requests != 1 || len(statements) < 1 {
		t.Fatalf("debug: %d request lines and statements %q, want 1 and each statement", requests, statements)
	}
	for _, s := range statements {
		if strings.Contains(s, tenant) || strings.Contains(s, "Logged") {
			t.Errorf("a logged statement carries a value: %s", s)
		}
	}
}

// metricValue reads the value of the series line that starts with prefix.
func metricValue(t *testing.T, text, prefix string) float64 {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, prefix+" ") {
			v, _ := strconv.ParseFloat(strings.TrimPrefix(line, prefix+" "), 64)
			return v
		}
	}
	return -1
}

// TestOperationMetrics: /metrics counts operations by name, type and
// outcome, GraphQL errors by code, SQL statements' latency, loader batch
// sizes and the seat rules' outcomes, and says which build runs.
func TestOperationMetrics(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("opmetrics")
	f := apitest.NewFixture(t, srv.DB, tenant)
	people := f.People("metered", 4)
	one := f.License("One seat", 1)
	tok := apitest.Token(t, tenant)
	for range 2 {
		srv.MustDo(t, tok, `query Licenses { licenses(first: 5) { nodes { name assignments(first: 5) { nodes { id } } } } }`, nil)
	}
	post(t, srv, tok, "bad", `query Broken { licenses { nope } }`, nil)
	assign := func(person int, waitlist, dryRun bool) {
		srv.MustDo(t, tok, `mutation Assign($l: ID!, $p: ID!, $w: Boolean, $d: Boolean) {
		  assignLicense(input: {licenseId: $l, personId: $p, waitlist: $w, dryRun: $d}) { userErrors { code } } }`,
			map[string]any{"l": gid.License.Format(one.ID), "p": gid.Person.Format(people[person].ID), "w": waitlist, "d": dryRun})
	}
	assign(0, false, false) // granted
	assign(1, false, false) // seat limit reached
	assign(2, true, false)  // waitlisted
	assign(3, true, true)   // a dry run: not counted
	// In one call: person 0's live grant updated (not a new grant, not
	// counted) and person 3 queued (waitlisted).
	srv.MustDo(t, tok, `mutation AssignMany($items: [AssignLicenseInput!]!) {
	  assignLicenses(input: {items: $items}) { assignments { id } userErrors { code } } }`,
		map[string]any{"items": []map[string]any{
			{"licenseId": gid.License.Format(one.ID), "personId": gid.Person.Format(people[0].ID)},
			{"licenseId": gid.License.Format(one.ID), "personId": gid.Person.Format(people[3].ID), "waitlist": true},
		}})

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	text := string(body)
	for series, want := range map[string]float64{
		`seatgraph_graphql_operation_duration_seconds_count{operation="Licenses",outcome="ok",type="query"}`:            2,
		`seatgraph_graphql_operation_duration_seconds_count{operation="Assign",outcome="ok",type="mutation"}`:           4,
		`seatgraph_graphql_operation_duration_seconds_count{operation="unknown",outcome="client_error",type="unknown"}`: 1,
		`seatgraph_graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED"}`:                                              1,
		`seatgraph_seat_requests_total{outcome="granted"}`:                                                              1,
		`seatgraph_seat_requests_total{outcome="waitlisted"}`:                                                           2,
		`seatgraph_seat_requests_total{outcome="seat_limit_reached"}`:                                                   1,
		`seatgraph_loader_batch_size_count{loader="Assignments"}`:                                                       2,
		`seatgraph_loader_batch_size_sum{loader="Assignments"}`:                                                         2,
	} {
		if got := metricValue(t, text, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if n := metricValue(t, text, `seatgraph_sql_statement_duration_seconds_count{statement="SELECT"}`); n < 4 {
		t.Errorf("SQL latency histogram counted %v SELECTs", n)
	}
	if !regexp.MustCompile(`(?m)^seatgraph_build_info\{go_version="go[^"]+",revision="[^"]*",version="[^"]*"\} 1$`).MatchString(text) {
		t.Errorf("/metrics lacks seatgraph_build_info")
	}
	t.Logf("/metrics excerpt:\n%s", excerpt(text, "seatgraph_graphql_", "seatgraph_seat_", "seatgraph_loader_batch_size_count",
		"seatgraph_sql_statement_duration_seconds_count", "seatgraph_build_info", "seatgraph_http_requests_total"))
}

// excerpt keeps the sample lines of text that start with any prefix,
// without histogram buckets.
func excerpt(text string, prefixes ...string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(line, p) && !strings.Contains(line, "_bucket{") {
				out = append(out, line)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

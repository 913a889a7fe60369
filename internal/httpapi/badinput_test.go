package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"seatgraph/internal/apitest"
	"seatgraph/internal/httpapi"
)

// request describes one HTTP request to /query.
type request struct {
	method  string
	ctype   string // Content-Type; "" for none
	accept  string
	headers map[string]string
	body    []byte
	query   url.Values // GET parameters
}

func jsonBody(query string, vars map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return b
}

func (rq request) send(t *testing.T, srv *apitest.Server, token string) *apitest.Response {
	t.Helper()
	method := rq.method
	if method == "" {
		method = http.MethodPost
	}
	u := srv.URL + "/query"
	if rq.query != nil {
		u += "?" + rq.query.Encode()
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(rq.body))
	if err != nil {
		t.Fatal(err)
	}
	if rq.ctype != "" {
		req.Header.Set("Content-Type", rq.ctype)
	}
	if rq.accept != "" {
		req.Header.Set("Accept", rq.accept)
	}
	for k, v := range rq.headers {
		req.Header.Set(k, v)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return srv.Send(t, req)
}

const (
	gqlResponse = "application/graphql-response+json"
	appJSON     = "application/json"
)

// deepQuery nests people and groups n levels deep.
func deepQuery(n int) string {
	var b strings.Builder
	b.WriteString("{ people(first: 1) { nodes { ")
	depth := 3
	for depth+4 <= n-3 {
		b.WriteString("groups(first: 1) { nodes { members(first: 1) { nodes { ")
		depth += 4
	}
	// The innermost levels: groups, nodes, members, totalCount.
	b.WriteString("groups(first: 1) { nodes { members(first: 1) { totalCount } } }")
	b.WriteString(strings.Repeat(" } } } }", (depth-3)/4))
	b.WriteString(" } } }")
	return b.String()
}

// repeatedFields asks for one field n times in one selection set.
func repeatedFields(n int) string {
	return "{licenses(first:1){nodes{" + strings.Repeat("name ", n) + "}}}"
}

// spreads spreads n distinct fragments N1…Nn in one selection set.
func spreads(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, " ...N%d", i+1)
	}
	b.WriteString(" }")
	return b.String()
}

// fragments defines the fragments N1…Nn that spreads spreads.
func fragments(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, " fragment N%d on Query { __typename }", i+1)
	}
	return b.String()
}

func aliases(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, " a%d: __typename", i)
	}
	b.WriteString(" }")
	return b.String()
}

// TestBadInput is the bad-input table: each malformed, oversized, hostile
// or unsupported request gets the status of the GraphQL over HTTP spec and
// a clear error with extensions.code, runs no resolver, and leaves the
// server serving.
func TestBadInput(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("bad")
	f := apitest.NewFixture(t, srv.DB, tenant)
	f.Assign(f.License("Licensed", 5), f.Person("someone@bad.example"))
	tok := apitest.Token(t, tenant)
	preflight := map[string]string{"Apollo-Require-Preflight": "true"}
	tenMB := append(append([]byte(`{"query": "{ __typename }", "pad": "`), bytes.Repeat([]byte("x"), 10<<20)...), '"', '}')
	wrongVar := jsonBody(`query($n: Int) { licenses(first: $n) { totalCount } }`, map[string]any{"n": "ten"})
	tooMany := `{ licenses(first: 100) { nodes { assignments(first: 100) { nodes { license { assignments(first: 100) { nodes { id } } } } } } } }`

	for _, tc := range []struct {
		name    string
		req     request
		status  int
		code    string
		message string
		noAuth  bool
	}{
		{"malformed JSON", request{ctype: appJSON, body: []byte(`{"query": "{ __typename }"`)},
			400, "BAD_REQUEST", "not a GraphQL request in JSON", false},
		{"JSON that is not an object", request{ctype: appJSON, body: []byte(`"{ __typename }"`)},
			400, "BAD_REQUEST", "expected an object", false},
		{"query that is not a string", request{ctype: appJSON, body: []byte(`{"query": 42}`)},
			400, "BAD_REQUEST", `"query" must not be a JSON number`, false},
		{"variables that are not an object", request{ctype: appJSON, body: []byte(`{"query": "{ __typename }", "variables": [1]}`)},
			400, "BAD_REQUEST", `"variables" must not be a JSON array`, false},
		{"no query", request{ctype: appJSON, body: []byte(`{"variables": {}}`)},
			400, "BAD_REQUEST", "no query", false},
		{"data after the object", request{ctype: appJSON, body: []byte(`{"query": "{ __typename }"} {}`)},
			400, "BAD_REQUEST", "data after the JSON object", false},
		{"a batch", request{ctype: appJSON, body: []byte(`[{"query": "{ __typename }"}, {"query": "{ __typename }"}]`)},
			400, "BAD_REQUEST", "batched requests are not supported", false},
		{"syntax error (application/json)", request{ctype: appJSON, body: jsonBody(`{ licenses {`, nil)},
			200, "GRAPHQL_PARSE_FAILED", "Expected Name", false},
		{"syntax error (graphql-response+json)", request{ctype: appJSON, accept: gqlResponse, body: jsonBody(`{ licenses {`, nil)},
			400, "GRAPHQL_PARSE_FAILED", "Expected Name", false},
		{"unknown field, no suggestions", request{ctype: appJSON, accept: gqlResponse, body: jsonBody(`{ licence { id } }`, nil)},
			400, "GRAPHQL_VALIDATION_FAILED", `Cannot query field "licence" on type "Query".`, false},
		{"wrong variable type (application/json)", request{ctype: appJSON, body: wrongVar},
			200, "BAD_USER_INPUT", "cannot use string as Int", false},
		{"wrong variable type (graphql-response+json)", request{ctype: appJSON, accept: gqlResponse, body: wrongVar},
			400, "BAD_USER_INPUT", "cannot use string as Int", false},
		{"first: 100000", request{ctype: appJSON, accept: gqlResponse, body: jsonBody(`{ licenses(first: 100000) { nodes { id } } }`, nil)},
			400, "BAD_USER_INPUT", "first on licenses must be between 0 and 100, got 100000", false},
		{"first: 100000 (application/json)", request{ctype: appJSON, body: jsonBody(`{ licenses(first: 100000) { nodes { id } } }`, nil)},
			200, "BAD_USER_INPUT", "first on licenses must be between 0 and 100", false},
		{"a 50-deep query", request{ctype: appJSON, accept: gqlResponse, body: jsonBody(deepQuery(50), nil)},
			400, "GRAPHQL_VALIDATION_FAILED", "nests 50 levels deep, more than the limit of 15", false},
		{"1,000 aliases", request{ctype: appJSON, accept: gqlResponse, body: jsonBody(aliases(1000), nil)},
			400, "GRAPHQL_VALIDATION_FAILED", "uses 1000 aliases, more than the limit of 50", false},
		{"100 x 100 x 100 rows", request{ctype: appJSON, accept: gqlResponse, body: jsonBody(tooMany, nil)},
			400, "COMPLEXITY_LIMIT_EXCEEDED", "more than the limit of 200000", false},
		{"9,000 repeated fields", request{ctype: appJSON, accept: gqlResponse, body: jsonBody(repeatedFields(9000), nil)},
			400, "GRAPHQL_VALIDATION_FAILED", "asks for 9000 fields under one name in one place, more than the limit of 100", false},
		{"9,000 repeated fields through fragments", request{ctype: appJSON, accept: gqlResponse, body: jsonBody(
			"{ licenses(first: 1) { nodes { ...F } } } fragment F on License {"+strings.Repeat(" ...G", 90)+" } fragment G on License {"+strings.Repeat(" name", 100)+" }", nil)},
			400, "GRAPHQL_VALIDATION_FAILED", "more than the limit of", false},
		{"9,000 repeated fields in an unused fragment", request{ctype: appJSON, accept: gqlResponse, body: jsonBody(
			"{ __typename } fragment F on License {"+strings.Repeat(" name", 9000)+" }", nil)},
			400, "GRAPHQL_VALIDATION_FAILED", "asks for 9000 fields under one name in one place, more than the limit of 100", false},
		{"4,000 unknown fragment spreads", request{ctype: appJSON, accept: gqlResponse, body: jsonBody(spreads(4000), nil)},
			400, "GRAPHQL_VALIDATION_FAILED", `spreads fragment "N1", which it does not define`, false},
		{"900 defined fragments spread in one place", request{ctype: appJSON, accept: gqlResponse, body: jsonBody(
			spreads(900)+fragments(900), nil)},
			400, "GRAPHQL_VALIDATION_FAILED", "spreads 900 fragments in one place, more than the limit of 100", false},
		{"@defer (its fields would come back null)", request{ctype: appJSON, accept: gqlResponse, body: jsonBody(
			"{ licenses(first: 1) { nodes { name ... @defer { vendor } } } }", nil)},
			400, "GRAPHQL_VALIDATION_FAILED", "@defer is not supported", false},
		{"@defer on a spread, if from a variable", request{ctype: appJSON, accept: gqlResponse, body: jsonBody(
			"query($d: Boolean!) { licenses(first: 1) { nodes { ...F @defer(if: $d) } } } fragment F on License { vendor }", map[string]any{"d": true})},
			400, "GRAPHQL_VALIDATION_FAILED", "@defer is not supported", false},
		{"@defer inside a fragment", request{ctype: appJSON, accept: gqlResponse, body: jsonBody(
			"{ licenses(first: 1) { nodes { ...F } } } fragment F on License { name ... @defer(label: \"v\") { vendor } }", nil)},
			400, "GRAPHQL_VALIDATION_FAILED", "@defer is not supported", false},
		{"a fragment cycle", request{ctype: appJSON, accept: gqlResponse, body: jsonBody(
			"{ viewer { ...A } } fragment A on Viewer { subject ...B } fragment B on Viewer { ...A }", nil)},
			400, "GRAPHQL_VALIDATION_FAILED", `fragment "A" spreads itself`, false},
		{"over the token limit", request{ctype: appJSON, accept: gqlResponse, body: jsonBody("{"+strings.Repeat(" __typename", 10001)+" }", nil)},
			400, "GRAPHQL_PARSE_FAILED", "exceeded token limit of 10000", false},
		{"a 10 MB body", request{ctype: appJSON, body: tenMB},
			413, "BAD_REQUEST", "larger than 1048576 bytes", false},
		{"a GET mutation", request{method: http.MethodGet, headers: preflight, query: url.Values{"query": {"mutation { __typename }"}}},
			405, "BAD_REQUEST", "mutations are not accepted over GET", false},
		{"a text/plain POST", request{ctype: "text/plain", body: jsonBody(`{ __typename }`, nil)},
			400, "BAD_REQUEST", "cross-site request forgery", false},
		{"a multipart/form-data POST", request{ctype: "multipart/form-data; boundary=x", body: []byte("--x\r\n\r\n{}\r\n--x--")},
			400, "BAD_REQUEST", "cross-site request forgery", false},
		{"a form POST", request{ctype: "application/x-www-form-urlencoded", body: []byte("query=%7B__typename%7D")},
			400, "BAD_REQUEST", "cross-site request forgery", false},
		{"a GET without a preflight header", request{method: http.MethodGet, query: url.Values{"query": {"{ __typename }"}}},
			400, "BAD_REQUEST", "cross-site request forgery", false},
		{"text/plain with a preflight header", request{ctype: "text/plain", headers: preflight, body: jsonBody(`{ __typename }`, nil)},
			415, "BAD_REQUEST", "must be application/json", false},
		{"a body in Latin-1", request{ctype: "application/json; charset=iso-8859-1", body: jsonBody(`{ __typename }`, nil)},
			415, "BAD_REQUEST", "must be UTF-8", false},
		{"a PUT", request{method: http.MethodPut, ctype: appJSON, body: jsonBody(`{ __typename }`, nil)},
			405, "BAD_REQUEST", "PUT is not supported", false},
		{"an Accept of text/html only", request{ctype: appJSON, accept: "text/html", body: jsonBody(`{ __typename }`, nil)},
			406, "BAD_REQUEST", "Accept header allows neither", false},
		{"no credentials for tenant data", request{ctype: appJSON, accept: gqlResponse, body: jsonBody(`{ licenses { totalCount } }`, nil)},
			401, "UNAUTHENTICATED", "authentication required", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token := tok
			if tc.noAuth {
				token = ""
			}
			before := srv.DB.Statements()
			r := tc.req.send(t, srv, token)
			if r.Status != tc.status || !slices.Equal(r.Codes(), []string{tc.code}) || !strings.Contains(r.Errors[0].Message, tc.message) {
				t.Errorf("got %d %.400s\nwant %d %s saying %q", r.Status, r.Raw, tc.status, tc.code, tc.message)
			}
			if strings.Contains(string(r.Raw), `"data"`) {
				t.Errorf("a refused request has a data entry: %.200s", r.Raw)
			}
			if strings.Contains(string(r.Raw), "Did you mean") {
				t.Errorf("the error suggests names: %s", r.Raw)
			}
			want := appJSON
			if tc.req.accept == gqlResponse {
				want = gqlResponse
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, want) {
				t.Errorf("Content-Type %q, want %s", ct, want)
			}
			if n := srv.DB.Statements() - before; n != 0 {
				t.Errorf("%d statements ran for a refused request", n)
			}
			// The server still serves a normal query.
			data := srv.MustDo(t, tok, `{ licenses { totalCount } }`, nil)
			if data["licenses"].(map[string]any)["totalCount"] != float64(1) {
				t.Errorf("after the bad request: %v", data)
			}
		})
	}

	t.Run("a GET query with a preflight header is served", func(t *testing.T) {
		r := request{method: http.MethodGet, headers: preflight, accept: gqlResponse,
			query: url.Values{"query": {`query($n: Int) { licenses(first: $n) { totalCount } }`}, "variables": {`{"n": 5}`}}}.send(t, srv, tok)
		if r.Status != 200 || len(r.Errors) > 0 || r.Data["licenses"].(map[string]any)["totalCount"] != float64(1) {
			t.Errorf("got %d %s", r.Status, r.Raw)
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, gqlResponse) {
			t.Errorf("Content-Type %q", ct)
		}
	})
	t.Run("a GET mutation names the allowed method and writes nothing", func(t *testing.T) {
		r := request{method: http.MethodGet, headers: preflight, query: url.Values{
			"query": {`mutation { createLicense(input: {name: "Over GET"}) { license { id } } }`}}}.send(t, srv, tok)
		if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "POST" {
			t.Errorf("got %d, Allow %q; want 405, POST", r.Status, r.Header.Get("Allow"))
		}
		var n int
		if err := apitest.DB(t).SQL(t).QueryRow("SELECT count(*) FROM licenses WHERE name = 'Over GET'").Scan(&n); err != nil || n != 0 {
			t.Errorf("%d licenses created over GET (%v)", n, err)
		}
	})
	t.Run("Accept is weighed", func(t *testing.T) {
		r := request{ctype: appJSON, accept: "application/json;q=0.5, application/graphql-response+json;q=0.9",
			body: jsonBody(`{ __typename }`, nil)}.send(t, srv, tok)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, gqlResponse) {
			t.Errorf("Content-Type %q, want %s", ct, gqlResponse)
		}
		r = request{ctype: appJSON, accept: "*/*", body: jsonBody(`{ __typename }`, nil)}.send(t, srv, tok)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, appJSON) {
			t.Errorf("Content-Type %q, want %s", ct, appJSON)
		}
	})
	t.Run("an argument of the wrong shape is BAD_USER_INPUT, not an internal error", func(t *testing.T) {
		before := srv.DB.Statements()
		r := srv.Do(t, tok, `{ licenses(filter: {expiresBefore: "next tuesday"}) { totalCount } }`, nil)
		if !slices.Equal(r.Codes(), []string{"BAD_USER_INPUT"}) || !strings.Contains(r.Errors[0].Message, "RFC") ||
			fmt.Sprint(r.Errors[0].Path) != "[licenses filter expiresBefore]" {
			t.Errorf("got %s", r.Raw)
		}
		if n := srv.DB.Statements() - before; n != 0 {
			t.Errorf("%d statements ran", n)
		}
	})
	t.Run("the subgraph schema needs no credentials", func(t *testing.T) {
		r := request{ctype: appJSON, body: jsonBody(`{ _service { sdl } }`, nil)}.send(t, srv, "")
		if r.Status != 200 || len(r.Errors) > 0 {
			t.Errorf("got %d %.300s", r.Status, r.Raw)
		}
	})
}

// TestProductionSwitches: with the production settings, introspection and
// the playground are off (the federation _service stays on) and
// validation errors suggest nothing.
func TestProductionSwitches(t *testing.T) {
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) { c.HTTP = httpapi.Options{} })
	tok := apitest.Token(t, apitest.Tenant("prod"))
	r := srv.Do(t, tok, `{ __schema { types { name } } }`, nil)
	if r.Status != 200 || !slices.Equal(r.Codes(), []string{"GRAPHQL_VALIDATION_FAILED"}) ||
		!strings.Contains(r.Errors[0].Message, "introspection is disabled") {
		t.Errorf("introspection: %s", r.Raw)
	}
	// A gateway composing the supergraph still reads the subgraph SDL,
	// with no credentials.
	if r := srv.Do(t, "", `{ _service { sdl } }`, nil); len(r.Errors) > 0 ||
		!strings.Contains(r.Data["_service"].(map[string]any)["sdl"].(string), "type License") {
		t.Errorf("_service with introspection off: %.300s", r.Raw)
	}
	for _, q := range []string{`{ licence { id } }`, `{ licenses(frist: 1) { totalCount } }`,
		`{ assignments(filter: {status: [ACTIV]}) { totalCount } }`, `query($f: LicenceFilter) { licenses(filter: $f) { totalCount } }`} {
		r := srv.Do(t, tok, q, nil)
		if len(r.Errors) == 0 || strings.Contains(string(r.Raw), "Did you mean") {
			t.Errorf("%s: %s", q, r.Raw)
		}
	}
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("playground: %d, want 404", resp.StatusCode)
	}

	dev := apitest.NewServer(t, func(c *apitest.ServerConfig) { c.HTTP.FieldSuggestions = true })
	if r := dev.Do(t, tok, `{ licence { id } }`, nil); !strings.Contains(string(r.Raw), "Did you mean") {
		t.Errorf("with suggestions on: %s", r.Raw)
	}
}

// TestInternalErrorsMasked: a failure inside the server reaches the caller
// as INTERNAL_SERVER_ERROR with no detail, and the log has the detail
// with the request id the caller was given.
func TestInternalErrorsMasked(t *testing.T) {
	var logs bytes.Buffer
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) { c.Log = slog.New(slog.NewJSONHandler(&logs, nil)) })
	super := apitest.DB(t).SQL(t)
	// Break the server's access to one table, in this package's own database.
	if _, err := super.Exec("REVOKE SELECT ON people FROM seatgraph_app"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = super.Exec("GRANT SELECT ON people TO seatgraph_app") })

	r := srv.Do(t, apitest.Token(t, apitest.Tenant("masked")), `{ people { totalCount } }`, nil)
	if !slices.Equal(r.Codes(), []string{"INTERNAL_SERVER_ERROR"}) || r.Errors[0].Message != "internal server error" {
		t.Errorf("got %s", r.Raw)
	}
	if strings.Contains(string(r.Raw), "permission") || strings.Contains(string(r.Raw), "SQLSTATE") {
		t.Errorf("the response reveals the failure: %s", r.Raw)
	}
	id := r.Header.Get("X-Request-ID")
	var found bool
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "permission denied") && strings.Contains(line, `"request_id":"`+id+`"`) {
			found = true
		}
	}
	if id == "" || !found {
		t.Errorf("no log line with the failure and request id %q:\n%s", id, logs.String())
	}
}

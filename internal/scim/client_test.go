package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"seatgraph/internal/apikey"
	"seatgraph/internal/apitest"
	"seatgraph/internal/store"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

// client talks SCIM to the real handler with one Authorization header.
type client struct {
	t    *testing.T
	srv  *apitest.Server
	auth string
}

func newClient(t *testing.T, srv *apitest.Server, tenant string) *client {
	return &client{t: t, srv: srv, auth: "Bearer " + apitest.Token(t, tenant, "scim")}
}

// reply is a SCIM answer: status, headers and the JSON body.
type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// do sends method path with body (a JSON string or a value) and headers
// given as "Name: value".
func (c *client) do(method, path string, body any, headers ...string) reply {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.srv.URL+"/scim/v2"+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			c.t.Fatalf("%s %s: answer is not a JSON object (%d): %s", method, path, resp.StatusCode, raw)
		}
	}
	if len(raw) > 0 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/scim+json") {
		c.t.Fatalf("%s %s: Content-Type %q, want application/scim+json", method, path, resp.Header.Get("Content-Type"))
	}
	return r
}

// want fails the test unless the answer has status.
func (r reply) want(t *testing.T, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

// wantError checks a SCIM Error message: status (as a string) and scimType.
func (r reply) wantError(t *testing.T, status int, scimType string) {
	t.Helper()
	r.want(t, status)
	if s := r.body["status"]; s != itoa(status) {
		t.Fatalf("error status %#v, want the string %q: %s", s, itoa(status), r.raw)
	}
	if got, _ := r.body["scimType"].(string); got != scimType {
		t.Fatalf("scimType %q, want %q: %s", got, scimType, r.raw)
	}
	if schemas, _ := r.body["schemas"].([]any); len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
		t.Fatalf("error schemas %v: %s", r.body["schemas"], r.raw)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// str reads a string at a path of keys in a JSON object.
func str(v any, path ...string) string {
	for _, k := range path {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

// resources is a ListResponse's Resources.
func (r reply) resources(t *testing.T) []map[string]any {
	t.Helper()
	if schemas, _ := r.body["schemas"].([]any); len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:ListResponse" {
		t.Fatalf("not a ListResponse: %s", r.raw)
	}
	var out []map[string]any
	list, _ := r.body["Resources"].([]any)
	for _, x := range list {
		out = append(out, x.(map[string]any))
	}
	return out
}

// apiKey mints an API key for tenant with scopes, as
// "seatgraph apikey create" does.
func apiKey(t *testing.T, tenant string, scopes ...string) string {
	t.Helper()
	return apiKeyForApp(t, tenant, "", scopes...)
}

// apiKeyForApp mints an API key scoped to app (none when app is "").
func apiKeyForApp(t *testing.T, tenant, app string, scopes ...string) string {
	t.Helper()
	db, err := store.Open(context.Background(), apitest.DB(t).OwnerURL, store.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	key, _, err := apikey.NewStore(db.Bun()).Create(context.Background(), apikey.CreateRequest{Tenant: tenant, App: app, Scopes: scopes, CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return key
}

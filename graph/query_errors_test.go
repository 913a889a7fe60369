package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"seatgraph/internal/apitest"
	"seatgraph/internal/auth"
	"seatgraph/internal/gid"
)

// TestQueryErrors checks the errors a caller meets with missing, bad or
// insufficient credentials and malformed ids.
func TestQueryErrors(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("errors")
	f := apitest.NewFixture(t, srv.DB, tenant)
	l := f.License("Errors Suite", 0)
	f.Assign(l, f.People("e", 1)...)
	lid := gid.License.Format(l.ID)

	post := func(header, query string) *apitest.Response {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		r := &apitest.Response{Status: resp.StatusCode}
		if err := json.NewDecoder(resp.Body).Decode(r); err != nil {
			t.Fatalf("response is not JSON: %v", err)
		}
		return r
	}

	t.Run("no token", func(t *testing.T) {
		for field, q := range map[string]string{
			"licenses": `{ licenses { totalCount } }`,
			"viewer":   `{ viewer { tenantId } }`,
			"node":     `{ node(id: "` + lid + `") { id } }`,
		} {
			r := srv.Do(t, "", q, nil)
			wantError(t, r, field, "UNAUTHENTICATED", "")
			if r.Data != nil && r.Data[field] != nil {
				t.Errorf("%s answered without a token: %v", field, r.Data)
			}
		}
	})

	t.Run("bad token", func(t *testing.T) {
		expired := apitest.TokenFor(t, auth.TokenRequest{Tenant: tenant, Subject: "x", TTL: -time.Hour})
		forged, err := auth.Mint(auth.JWTConfig{Secret: []byte("not the server's secret at all, no")},
			auth.TokenRequest{Tenant: tenant, Subject: "x", Scopes: auth.AllScopes, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		for name, header := range map[string]string{
			"garbage":       "Bearer garbage",
			"expired":       "Bearer " + expired,
			"wrong secret":  "Bearer " + forged,
			"no token":      "Bearer ",
			"wrong scheme":  "Basic dXNlcjpwYXNz",
			"missing space": "Bearer" + forged,
		} {
			r := post(header, `{ licenses { totalCount } }`)
			if r.Status != http.StatusUnauthorized {
				t.Errorf("%s: HTTP %d, want 401", name, r.Status)
			}
			if !slices.Contains(r.Codes(), "UNAUTHENTICATED") {
				t.Errorf("%s: codes %v, want UNAUTHENTICATED", name, r.Codes())
			}
			if r.Data != nil {
				t.Errorf("%s: data %v with bad credentials", name, r.Data)
			}
		}
	})

	t.Run("missing scope", func(t *testing.T) {
		licensesOnly := apitest.Token(t, tenant, auth.ScopeLicensesRead)
		directoryOnly := apitest.Token(t, tenant, auth.ScopeDirectoryRead)
		// The scope held works.
		data := srv.MustDo(t, licensesOnly, `{ licenses { totalCount } }`, nil)
		if jsonInt(t, data, "licenses", "totalCount") != 1 {
			t.Errorf("licenses:read token sees %v", data)
		}
		for _, c := range []struct {
			tok, field, query, scope string
		}{
			{licensesOnly, "people", `{ people { totalCount } }`, "directory:read"},
			{licensesOnly, "groups", `{ groups { totalCount } }`, "directory:read"},
			{licensesOnly, "personByEmail", `{ personByEmail(email: "x@example.com") { id } }`, "directory:read"},
			{directoryOnly, "licenses", `{ licenses { totalCount } }`, "licenses:read"},
			{directoryOnly, "assignments", `{ assignments { totalCount } }`, "licenses:read"},
			{directoryOnly, "node", `{ node(id: "` + lid + `") { id } }`, "licenses:read"},
			// Nested fields reaching data of another scope are refused too.
			{licensesOnly, "", `{ licenses { nodes { assignments { nodes { assignee { ... on Person { email } } } } } } }`, "directory:read"},
		} {
			r := srv.Do(t, c.tok, c.query, nil)
			wantError(t, r, c.field, "FORBIDDEN", c.scope)
			if c.field == "" && strings.Contains(string(r.Raw), "@") {
				t.Errorf("the refused nested field still shows an email: %s", r.Raw)
			}
		}
	})

	t.Run("bad ids", func(t *testing.T) {
		tok := apitest.Token(t, tenant)
		for field, q := range map[string]string{
			"node":       `{ node(id: "garbage") { id } }`,
			"license":    `{ license(id: "garbage") { id } }`,
			"person":     `{ person(id: "` + lid + `") { id } }`,
			"assignment": `{ assignment(id: "lic_") { id } }`,
			"group":      `{ group(id: "` + strings.Replace(lid, "lic_", "xyz_", 1) + `") { id } }`,
			"nodes":      `{ nodes(ids: ["` + lid + `", "garbage"]) { id } }`,
		} {
			r := srv.Do(t, tok, q, nil)
			wantError(t, r, field, "BAD_USER_INPUT", "")
		}
		// A well-formed id of nothing is simply null.
		data := srv.MustDo(t, tok, `query($id: ID!) { node(id: $id) { id } license(id: $id) { id } }`,
			map[string]any{"id": gid.License.Format(gid.New())})
		if data["node"] != nil || data["license"] != nil {
			t.Errorf("an id of nothing resolved: %v", data)
		}
	})
}

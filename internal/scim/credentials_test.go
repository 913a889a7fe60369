package scim_test

import (
	"net/http"
	"strings"
	"testing"

	"seatgraph/internal/apitest"
)

// Credentials: Bearer with an API key or a JWT holding the scim scope.
func TestSCIMCredentials(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("scim-creds")
	c := &client{t: t, srv: srv}

	c.do("GET", "/Users", nil).wantError(t, http.StatusUnauthorized, "")
	c.auth = "Bearer not-a-token"
	c.do("GET", "/Users", nil).wantError(t, http.StatusUnauthorized, "")
	c.auth = "Bearer " + apitest.Token(t, tenant, "directory:read", "directory:write")
	c.do("GET", "/Users", nil).wantError(t, http.StatusForbidden, "")
	c.auth = "Bearer " + apiKey(t, tenant, "directory:write")
	c.do("GET", "/Users", nil).wantError(t, http.StatusForbidden, "")

	// An API key minted with --scopes scim, sent as Bearer (what Entra and Okta send) or as ApiKey.
	key := apiKey(t, tenant, "scim")
	for _, h := range []string{"Bearer " + key, "ApiKey " + key} {
		c.auth = h
		c.do("GET", "/Users", nil).want(t, http.StatusOK)
	}
	c.auth = "Bearer " + key
	c.do("POST", "/Users", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "k@corp.example"}`).want(t, http.StatusCreated)
	// A key with only the scim scope reads nothing through GraphQL.
	req, _ := http.NewRequest("POST", srv.URL+"/query", strings.NewReader(`{"query": "{ people { totalCount } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "ApiKey "+key)
	if r := srv.Send(t, req); len(r.Codes()) != 1 || r.Codes()[0] != "FORBIDDEN" {
		t.Fatalf("GraphQL with a scim-only key: %d %s", r.Status, r.Raw)
	}
}

// Tenant walls: another tenant's credentials get 404 for every id, and
// lists and filters never show another tenant's records.
func TestSCIMCrossTenant(t *testing.T) {
	srv := apitest.NewServer(t)
	a, b := apitest.Tenant("scim-a"), apitest.Tenant("scim-b")
	ca := newClient(t, srv, a)
	cb := &client{t: t, srv: srv, auth: "Bearer " + apiKey(t, b, "scim")}

	user := str(ca.do("POST", "/Users", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "only.a@corp.example",
		"externalId": "ext-a"}`).want(t, http.StatusCreated).body, "id")
	group := str(ca.do("POST", "/Groups", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Only A",
		"members": [{"value": "`+user+`"}]}`).want(t, http.StatusCreated).body, "id")
	patch := `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"active": false}}]}`
	for _, req := range []struct{ method, path, body string }{
		{"GET", "/Users/" + user, ""},
		{"PUT", "/Users/" + user, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "taken@corp.example"}`},
		{"PATCH", "/Users/" + user, patch},
		{"DELETE", "/Users/" + user, ""},
		{"GET", "/Groups/" + group, ""},
		{"PUT", "/Groups/" + group, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "x"}`},
		{"PATCH", "/Groups/" + group, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "displayName", "value": "x"}]}`},
		{"DELETE", "/Groups/" + group, ""},
	} {
		var body any
		if req.body != "" {
			body = req.body
		}
		t.Run(req.method+" "+req.path[:7], func(t *testing.T) {
			cb.do(req.method, req.path, body).wantError(t, http.StatusNotFound, "")
		})
	}
	// B's group cannot take A's user as a member.
	gb := str(cb.do("POST", "/Groups", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "B"}`).
		want(t, http.StatusCreated).body, "id")
	cb.do("PATCH", "/Groups/"+gb, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
		{"op": "add", "path": "members", "value": [{"value": "`+user+`"}]}]}`).wantError(t, http.StatusBadRequest, "invalidValue")
	for _, path := range []string{"/Users", "/Users" + q("filter", `userName eq "only.a@corp.example"`), "/Users" + q("filter", `externalId eq "ext-a"`),
		"/Groups" + q("filter", `displayName eq "Only A"`)} {
		if r := cb.do("GET", path, nil).want(t, http.StatusOK); len(r.resources(t)) != 0 || r.body["totalResults"] != 0.0 {
			t.Fatalf("B sees A's records at %s: %s", path, r.raw)
		}
	}
	// A's records are untouched.
	r := ca.do("GET", "/Users/"+user, nil).want(t, http.StatusOK)
	if r.body["active"] != true {
		t.Fatalf("A's user after B's attempts: %s", r.raw)
	}
	ca.do("GET", "/Groups/"+group, nil).want(t, http.StatusOK)
}

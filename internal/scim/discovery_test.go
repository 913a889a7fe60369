package scim_test

import (
	"net/http"
	"strings"
	"testing"

	"seatgraph/internal/apitest"
)

// ServiceProviderConfig says what seatgraph supports; Schemas and
// ResourceTypes describe Users (with the enterprise extension) and Groups.
func TestSCIMDiscovery(t *testing.T) {
	srv := apitest.NewServer(t)
	c := newClient(t, srv, apitest.Tenant("scim-disco"))

	r := c.do("GET", "/ServiceProviderConfig", nil).want(t, http.StatusOK)
	for feature, want := range map[string]bool{"patch": true, "filter": true, "etag": true, "bulk": false, "sort": false, "changePassword": false} {
		m, _ := r.body[feature].(map[string]any)
		if m["supported"] != want {
			t.Errorf("%s.supported = %v, want %v", feature, m["supported"], want)
		}
	}
	if f, _ := r.body["filter"].(map[string]any); f["maxResults"] != 100.0 {
		t.Errorf("filter.maxResults = %v", f["maxResults"])
	}
	schemes, _ := r.body["authenticationSchemes"].([]any)
	if len(schemes) != 1 || str(schemes[0], "type") != "oauthbearertoken" {
		t.Errorf("authenticationSchemes = %v", r.body["authenticationSchemes"])
	}

	r = c.do("GET", "/ResourceTypes", nil).want(t, http.StatusOK)
	var names []string
	for _, rt := range r.resources(t) {
		names = append(names, str(rt, "name")+" "+str(rt, "endpoint"))
	}
	if strings.Join(names, ", ") != "User /Users, Group /Groups" {
		t.Errorf("resource types: %v", names)
	}
	r = c.do("GET", "/Schemas", nil).want(t, http.StatusOK)
	var ids []string
	for _, s := range r.resources(t) {
		ids = append(ids, str(s, "id"))
	}
	for _, want := range []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:core:2.0:Group",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"} {
		if !strings.Contains(strings.Join(ids, " "), want) {
			t.Errorf("schemas %v lack %s", ids, want)
		}
	}
	c.do("GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", nil).want(t, http.StatusOK)
}

// Bad input gets a SCIM Error and changes nothing.
func TestSCIMBadInput(t *testing.T) {
	srv := apitest.NewServer(t)
	c := newClient(t, srv, apitest.Tenant("scim-bad"))
	user := `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ok@corp.example"}`
	id := str(c.do("POST", "/Users", user).want(t, http.StatusCreated).body, "id")
	etag := c.do("GET", "/Users/"+id, nil).header.Get("ETag")

	cases := []struct {
		name, method, path, body string
		status                   int
		scimType                 string
	}{
		{"malformed JSON", "POST", "/Users", `{"userName": `, 400, "invalidSyntax"},
		{"no schemas", "POST", "/Users", `{"userName": "x@corp.example"}`, 400, "invalidSyntax"},
		{"no userName", "POST", "/Users", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "emails": [{"value": "x@corp.example"}]}`, 400, "invalidValue"},
		{"no email", "POST", "/Users", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "no-address"}`, 400, "invalidValue"},
		{"active not a boolean", "POST", "/Users", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "y@corp.example", "active": "maybe"}`, 400, "invalidValue"},
		{"unsupported operator", "GET", "/Users" + q("filter", `userName co "ok"`), "", 400, "invalidFilter"},
		{"unparsable filter", "GET", "/Users" + q("filter", `userName eq`), "", 400, "invalidFilter"},
		{"unknown attribute in filter", "GET", "/Users" + q("filter", `title eq "CEO"`), "", 400, "invalidFilter"},
		{"bad count", "GET", "/Users" + q("count", "many"), "", 400, ""},
		{"patch without PatchOp schema", "PATCH", "/Users/" + id, `{"Operations": [{"op": "replace", "path": "active", "value": false}]}`, 400, "invalidValue"},
		{"patch with an unknown op", "PATCH", "/Users/" + id, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "move", "path": "active", "value": false}]}`, 400, "invalidValue"},
		{"removing userName", "PATCH", "/Users/" + id, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": "userName"}]}`, 400, "mutability"},
		{"stale If-Match", "PATCH", "/Users/" + id, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": false}]}`, 412, ""},
		{"a malformed id", "GET", "/Users/not-an-id", "", 404, ""},
		{"a group id as a user id", "GET", "/Users/grp_01kx0000000000000000000000", "", 404, ""},
		{"unknown endpoint", "GET", "/Licenses", "", 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			var headers []string
			if tc.status == 412 {
				headers = append(headers, `If-Match: W/"1"`)
			}
			c.do(tc.method, tc.path, body, headers...).wantError(t, tc.status, tc.scimType)
		})
	}
	huge := `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "big@corp.example", "title": "` +
		strings.Repeat("x", 2<<20) + `"}`
	c.do("POST", "/Users", huge).wantError(t, http.StatusRequestEntityTooLarge, "")

	r := c.do("GET", "/Users", nil).want(t, http.StatusOK)
	if r.body["totalResults"] != 1.0 || r.resources(t)[0]["active"] != true {
		t.Fatalf("bad requests changed something: %s", r.raw)
	}
	// The current ETag is accepted.
	c.do("PATCH", "/Users/"+id, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "replace", "path": "name.formatted", "value": "Ok"}]}`, "If-Match: "+etag).want(t, http.StatusOK)
}

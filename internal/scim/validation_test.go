package scim_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"seatgraph/internal/apitest"
	"seatgraph/internal/auth"
)

const (
	userSchema  = `"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]`
	groupSchema = `"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"]`
	patchSchema = `"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]`
)

// snapshot is what a bad request must leave as it was: the users and
// groups lists as the identity provider reads them.
func snapshot(t *testing.T, c *client) string {
	t.Helper()
	return c.do("GET", "/Users", nil).want(t, http.StatusOK).raw + c.do("GET", "/Groups", nil).want(t, http.StatusOK).raw
}

// Malformed input is refused with a SCIM Error (4xx, never 500) and
// changes nothing: ids that are not ours, another type's id, malformed
// member values, blank or over-long names, malformed addresses.
func TestSCIMBadInputIsRefused(t *testing.T) {
	srv := apitest.NewServer(t)
	c := newClient(t, srv, apitest.Tenant("scim-bad"))
	user := str(c.do("POST", "/Users", `{`+userSchema+`, "userName": "ann@corp.example"}`).want(t, http.StatusCreated).body, "id")
	group := str(c.do("POST", "/Groups", `{`+groupSchema+`, "displayName": "Eng", "members": [{"value": "`+user+`"}]}`).
		want(t, http.StatusCreated).body, "id")
	long := strings.Repeat("x", 501)
	before := snapshot(t, c)

	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		scimType                 string
	}{
		{"PUT a malformed user id", "PUT", "/Users/not-an-id", `{` + userSchema + `, "userName": "x@corp.example"}`, 404, ""},
		{"DELETE a malformed user id", "DELETE", "/Users/not-an-id", "", 404, ""},
		{"PUT a group id as a user", "PUT", "/Users/" + group, `{` + userSchema + `, "userName": "x@corp.example"}`, 404, ""},
		{"DELETE a group id as a user", "DELETE", "/Users/" + group, "", 404, ""},
		{"PUT a malformed group id", "PUT", "/Groups/not-an-id", `{` + groupSchema + `, "displayName": "x"}`, 404, ""},
		{"PATCH a malformed group id", "PATCH", "/Groups/not-an-id",
			`{` + patchSchema + `, "Operations": [{"op": "replace", "path": "displayName", "value": "x"}]}`, 404, ""},
		{"DELETE a malformed group id", "DELETE", "/Groups/not-an-id", "", 404, ""},
		{"DELETE a user id as a group", "DELETE", "/Groups/" + user, "", 404, ""},
		{"a malformed member in POST", "POST", "/Groups", `{` + groupSchema + `, "displayName": "New", "members": [{"value": "nope"}]}`, 400, "invalidValue"},
		{"a malformed member in a PATCH add", "PATCH", "/Groups/" + group,
			`{` + patchSchema + `, "Operations": [{"op": "add", "path": "members", "value": [{"value": "nope"}]}]}`, 400, "invalidValue"},
		{"a blank displayName", "POST", "/Groups", `{` + groupSchema + `, "displayName": "  "}`, 400, "invalidValue"},
		{"an over-long displayName", "PUT", "/Groups/" + group, `{` + groupSchema + `, "displayName": "` + long + `"}`, 400, "invalidValue"},
		{"an over-long userName", "POST", "/Users", `{` + userSchema + `, "userName": "` + long + `", "emails": [{"value": "l@corp.example"}]}`, 400, "invalidValue"},
		{"an over-long userName in PUT", "PUT", "/Users/" + user, `{` + userSchema + `, "userName": "` + long + `", "emails": [{"value": "ann@corp.example"}]}`, 400, "invalidValue"},
		{"a malformed email", "POST", "/Users", `{` + userSchema + `, "userName": "bob", "emails": [{"value": "not an address"}]}`, 400, "invalidValue"},
		{"a malformed email in PATCH", "PATCH", "/Users/" + user,
			`{` + patchSchema + `, "Operations": [{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "not an address"}]}`, 400, "invalidValue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			c.do(tc.method, tc.path, body).wantError(t, tc.status, tc.scimType)
		})
	}
	if after := snapshot(t, c); after != before {
		t.Fatalf("bad requests changed the directory:\nbefore %s\nafter  %s", before, after)
	}
}

// A body that is not UTF-8 is a syntax error; a string holding U+0000
// (which PostgreSQL text cannot store) is an invalid value; neither
// changes anything.
func TestSCIMRefusesNULAndInvalidUTF8(t *testing.T) {
	srv := apitest.NewServer(t)
	c := newClient(t, srv, apitest.Tenant("scim-nul"))
	user := str(c.do("POST", "/Users", `{`+userSchema+`, "userName": "ann@corp.example"}`).want(t, http.StatusCreated).body, "id")
	group := str(c.do("POST", "/Groups", `{`+groupSchema+`, "displayName": "Eng"}`).want(t, http.StatusCreated).body, "id")
	before := snapshot(t, c)
	for _, tc := range []struct {
		name, method, path, body, scimType string
	}{
		{"NUL in a userName", "POST", "/Users", `{` + userSchema + `, "userName": "a\u0000b@corp.example"}`, "invalidValue"},
		{"NUL in a name", "PUT", "/Users/" + user, `{` + userSchema + `, "userName": "ann@corp.example", "name": {"formatted": "A\u0000"}}`, "invalidValue"},
		{"NUL in a key", "POST", "/Users", `{` + userSchema + `, "userName": "c@corp.example", "x\u0000": 1}`, "invalidValue"},
		{"NUL in a PATCH value", "PATCH", "/Users/" + user, `{` + patchSchema + `, "Operations": [{"op": "replace", "path": "displayName", "value": "\u0000"}]}`, "invalidValue"},
		{"NUL in a group name", "POST", "/Groups", `{` + groupSchema + `, "displayName": "G\u0000"}`, "invalidValue"},
		{"NUL in a member value", "PATCH", "/Groups/" + group, `{` + patchSchema + `, "Operations": [{"op": "add", "path": "members", "value": [{"value": "\u0000"}]}]}`, "invalidValue"},
		{"invalid UTF-8", "POST", "/Users", `{` + userSchema + `, "userName": "d` + "\xff\xfe" + `@corp.example"}`, "invalidSyntax"},
		{"invalid UTF-8 in PUT", "PUT", "/Users/" + user, `{` + userSchema + `, "userName": "ann@corp.example", "displayName": "` + "\xc3" + `"}`, "invalidSyntax"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.do(tc.method, tc.path, tc.body).wantError(t, http.StatusBadRequest, tc.scimType)
		})
	}
	// A filter holding NUL is refused too.
	c.do("GET", "/Users"+q("filter", "userName eq \"a\x00\""), nil).wantError(t, http.StatusBadRequest, "invalidFilter")
	if after := snapshot(t, c); after != before {
		t.Fatalf("refused bodies changed the directory:\nbefore %s\nafter  %s", before, after)
	}
}

// Usernames are unique per tenant even when the identity provider sends
// the same user several times at once: exactly one create succeeds, the
// others are 409 uniqueness.
func TestSCIMConcurrentCreatesOneUsername(t *testing.T) {
	srv := apitest.NewServer(t)
	c := newClient(t, srv, apitest.Tenant("scim-dup"))
	const n = 8
	var wg sync.WaitGroup
	replies := make([]reply, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = c.do("POST", "/Users", `{`+userSchema+`, "userName": "Same.User", "emails": [{"value": "same`+itoa(i)+`@corp.example"}]}`)
		}()
	}
	wg.Wait()
	created := 0
	for _, r := range replies {
		switch r.status {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
			r.wantError(t, http.StatusConflict, "uniqueness")
		default:
			t.Errorf("a concurrent create answered %d: %s", r.status, r.raw)
		}
	}
	if created != 1 {
		t.Fatalf("%d of %d concurrent creates of one userName succeeded, want exactly 1", created, n)
	}
	if r := c.do("GET", "/Users"+q("filter", `userName eq "same.user"`), nil).want(t, http.StatusOK); r.body["totalResults"] != 1.0 {
		t.Fatalf("people with the userName: %s", r.raw)
	}
}

// SCIM provisions the whole tenant: credentials scoped to one app (whose
// reads would hide the tenant's other people while usernames stay unique
// tenant-wide) are refused, before anything is read or written.
func TestSCIMRefusesAppCredentials(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("scim-app")
	for _, cred := range []string{
		"Bearer " + apitest.TokenFor(t, auth.TokenRequest{Tenant: tenant, Subject: "idp", App: "app-1", Scopes: []string{"scim"}}),
		"Bearer " + apiKeyForApp(t, tenant, "app-1", "scim"),
	} {
		c := &client{t: t, srv: srv, auth: cred}
		c.do("GET", "/Users", nil).wantError(t, http.StatusForbidden, "")
		r := c.do("POST", "/Users", `{`+userSchema+`, "userName": "app@corp.example"}`)
		r.wantError(t, http.StatusForbidden, "")
		if !strings.Contains(str(r.body, "detail"), "whole tenant") {
			t.Fatalf("the refusal does not say why: %s", r.raw)
		}
	}
	c := newClient(t, srv, tenant)
	if r := c.do("GET", "/Users", nil).want(t, http.StatusOK); r.body["totalResults"] != 0.0 {
		t.Fatalf("an app's refused request wrote: %s", r.raw)
	}
}

// userName filters read usernames only: a person made through GraphQL
// without a username (shown with their email as userName) is not found by
// a userName equal to their email that is another person's username;
// emails finds them.
func TestSCIMUserNameFilterReadsUsernames(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("scim-uname")
	c := newClient(t, srv, tenant)
	a := str(c.do("POST", "/Users", `{`+userSchema+`, "userName": "shared@corp.example", "emails": [{"value": "a@corp.example"}]}`).
		want(t, http.StatusCreated).body, "id")
	d := graphQL(t, srv, tenant, `mutation { createPerson(input: {email: "Shared@corp.example"}) { person { id } } }`, nil)
	b := d["createPerson"].(map[string]any)["person"].(map[string]any)["id"].(string)
	if r := c.do("GET", "/Users/"+b, nil).want(t, http.StatusOK); str(r.body, "userName") != "Shared@corp.example" {
		t.Fatalf("a person without a username: %s", r.raw)
	}
	for f, want := range map[string]string{
		`userName eq "SHARED@corp.example"`:                          a,
		`emails.value eq "shared@corp.example"`:                      b,
		`emails[type eq "work"].value eq "a@corp.example"`:           a,
		`not (userName eq "shared@corp.example") and active eq true`: b,
	} {
		r := c.do("GET", "/Users"+q("filter", f), nil).want(t, http.StatusOK)
		if res := r.resources(t); len(res) != 1 || res[0]["id"] != want {
			t.Errorf("filter %s: %s, want only %s", f, r.raw, want)
		}
	}
}

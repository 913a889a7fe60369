package scim_test

import (
	"net/http"
	"strings"
	"testing"

	"seatgraph/internal/apitest"
)

// The requests Okta sends, in the order of its SCIM 2.0 reference
// (developer.okta.com, "SCIM 2.0 protocol reference"): a userName lookup
// before every create, create, read, full update with PUT, deactivation
// with a PATCH without path, and the group requests.
func TestOktaUserSequence(t *testing.T) {
	srv := apitest.NewServer(t)
	c := newClient(t, srv, apitest.Tenant("okta"))

	r := c.do("GET", "/Users"+q("filter", `userName eq "test.user@okta.local"`, "startIndex", "1", "count", "100"), nil).want(t, http.StatusOK)
	if r.body["totalResults"] != 0.0 || len(r.resources(t)) != 0 {
		t.Fatalf("lookup before create: %s", r.raw)
	}
	r = c.do("POST", "/Users", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName": "test.user@okta.local", "name": {"givenName": "Test", "familyName": "User"},
		"emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
		"displayName": "Test User", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7",
		"groups": [], "password": "1mz050nq", "active": true}`).want(t, http.StatusCreated)
	id := str(r.body, "id")
	if str(r.body, "name", "formatted") != "Test User" || r.body["password"] != nil {
		t.Fatalf("created: %s", r.raw)
	}
	r = c.do("GET", "/Users"+q("filter", `userName eq "test.user@okta.local"`, "startIndex", "1", "count", "100"), nil).want(t, http.StatusOK)
	if res := r.resources(t); len(res) != 1 || res[0]["id"] != id {
		t.Fatalf("lookup after create: %s", r.raw)
	}
	c.do("GET", "/Users/"+id, nil).want(t, http.StatusOK)

	// Update a specific user (PUT): the whole user.
	r = c.do("PUT", "/Users/"+id, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "`+id+`",
		"userName": "test.user@okta.local", "name": {"givenName": "Another", "familyName": "User"},
		"emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
		"displayName": "Another User", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7", "groups": [],
		"password": "t1meMa$heen", "active": true, "meta": {"resourceType": "User"}}`).want(t, http.StatusOK)
	if str(r.body, "name", "formatted") != "Another User" {
		t.Fatalf("after PUT: %s", r.raw)
	}

	// Deactivate (PATCH, no path); the user is still returned, inactive.
	r = c.do("PATCH", "/Users/"+id, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "replace", "value": {"active": false}}]}`).want(t, http.StatusOK)
	if r.body["active"] != false {
		t.Fatalf("after deactivation: %s", r.raw)
	}
	r = c.do("GET", "/Users/"+id, nil).want(t, http.StatusOK)
	if r.body["active"] != false {
		t.Fatalf("a deactivated user reads: %s", r.raw)
	}
	r = c.do("GET", "/Users"+q("filter", `active eq false`), nil).want(t, http.StatusOK)
	if len(r.resources(t)) != 1 {
		t.Fatalf("filter active eq false: %s", r.raw)
	}
	// A password change is accepted (seatgraph keeps no passwords).
	c.do("PATCH", "/Users/"+id, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "replace", "value": {"password": "newPassw0rd"}}]}`).want(t, http.StatusOK)

	// Paging: startIndex is 1-based, count bounds the page, totalResults counts all.
	for _, u := range []string{"b", "c", "d"} {
		c.do("POST", "/Users", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "`+u+`@okta.local"}`).want(t, http.StatusCreated)
	}
	r = c.do("GET", "/Users"+q("startIndex", "2", "count", "2"), nil).want(t, http.StatusOK)
	res := r.resources(t)
	if r.body["totalResults"] != 4.0 || r.body["startIndex"] != 2.0 || len(res) != 2 ||
		str(res[0], "userName") != "b@okta.local" || str(res[1], "userName") != "c@okta.local" {
		t.Fatalf("page 2 of 2: %s", r.raw)
	}
	r = c.do("GET", "/Users"+q("count", "0"), nil).want(t, http.StatusOK)
	if r.body["totalResults"] != 4.0 || len(r.resources(t)) != 0 {
		t.Fatalf("count=0 answers only the total: %s", r.raw)
	}
	r = c.do("GET", "/Users"+q("startIndex", "9"), nil).want(t, http.StatusOK)
	if r.body["totalResults"] != 4.0 || len(r.resources(t)) != 0 {
		t.Fatalf("past the end: %s", r.raw)
	}
	r = c.do("GET", "/Users"+q("attributes", "userName"), nil).want(t, http.StatusOK)
	if u := r.resources(t)[0]; u["userName"] == nil || u["emails"] != nil || u["id"] == nil {
		t.Fatalf("attributes=userName: %s", r.raw)
	}
}

func TestOktaGroupSequence(t *testing.T) {
	srv := apitest.NewServer(t)
	c := newClient(t, srv, apitest.Tenant("okta-groups"))
	var people []string
	for _, u := range []string{"ann", "bob", "cyd"} {
		r := c.do("POST", "/Users", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "`+u+`@okta.local"}`).
			want(t, http.StatusCreated)
		people = append(people, str(r.body, "id"))
	}

	r := c.do("GET", "/Groups"+q("filter", `displayName eq "Test SCIMv2"`, "startIndex", "1", "count", "100"), nil).want(t, http.StatusOK)
	if len(r.resources(t)) != 0 {
		t.Fatalf("lookup before create: %s", r.raw)
	}
	r = c.do("POST", "/Groups", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Test SCIMv2",
		"members": [{"value": "`+people[0]+`", "display": "ann@okta.local"}]}`).want(t, http.StatusCreated)
	id := str(r.body, "id")
	if m, _ := r.body["members"].([]any); len(m) != 1 {
		t.Fatalf("created group: %s", r.raw)
	}
	r = c.do("GET", "/Groups"+q("startIndex", "1", "count", "100"), nil).want(t, http.StatusOK)
	if len(r.resources(t)) != 1 {
		t.Fatalf("list groups: %s", r.raw)
	}

	// Update a specific group name: Okta sends the id in the value.
	c.do("PATCH", "/Groups/"+id, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "replace", "value": {"id": "`+id+`", "displayName": "Test SCIMv2 renamed"}}]}`).want(t, http.StatusNoContent)
	// Update group membership: a removal by filter and a multi-member add in one request.
	c.do("PATCH", "/Groups/"+id, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
		{"op": "remove", "path": "members[value eq \"`+people[0]+`\"]"},
		{"op": "add", "path": "members", "value": [{"value": "`+people[1]+`", "display": "bob@okta.local"},
			{"value": "`+people[2]+`", "display": "cyd@okta.local"}]}]}`).want(t, http.StatusNoContent)
	r = c.do("GET", "/Groups/"+id, nil).want(t, http.StatusOK)
	members, _ := r.body["members"].([]any)
	if str(r.body, "displayName") != "Test SCIMv2 renamed" || len(members) != 2 ||
		str(members[0], "value") != people[1] || str(members[1], "value") != people[2] {
		t.Fatalf("after rename and membership update: %s", r.raw)
	}

	// PUT replaces the member list (and keeps the group).
	r = c.do("PUT", "/Groups/"+id, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Final",
		"members": [{"value": "`+people[0]+`"}]}`).want(t, http.StatusOK)
	members, _ = r.body["members"].([]any)
	if str(r.body, "displayName") != "Final" || len(members) != 1 || str(members[0], "value") != people[0] {
		t.Fatalf("after PUT: %s", r.raw)
	}
	// Removing all members (remove without filter or value).
	c.do("PATCH", "/Groups/"+id, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "remove", "path": "members"}]}`).want(t, http.StatusNoContent)
	r = c.do("GET", "/Groups/"+id, nil).want(t, http.StatusOK)
	if m, _ := r.body["members"].([]any); len(m) != 0 {
		t.Fatalf("after removing all members: %s", r.raw)
	}
	// A member that is not a user of this tenant is refused, and nothing changes.
	c.do("PATCH", "/Groups/"+id, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
		{"op": "add", "path": "members", "value": [{"value": "`+people[1]+`"}, {"value": "per_01kx00000000000000000000zz"}]}]}`).
		wantError(t, http.StatusBadRequest, "invalidValue")
	r = c.do("GET", "/Groups/"+id, nil).want(t, http.StatusOK)
	if m, _ := r.body["members"].([]any); len(m) != 0 {
		t.Fatalf("a refused add changed the members: %s", r.raw)
	}
	c.do("DELETE", "/Groups/"+id, nil).want(t, http.StatusNoContent)
	if !strings.HasPrefix(id, "grp_") {
		t.Fatalf("group id %q", id)
	}
}

package scim_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"seatgraph/internal/apitest"
)

// q is a query string.
func q(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return "?" + v.Encode()
}

// The user requests Microsoft Entra ID's provisioning service sends, in
// its documented order (learn.microsoft.com, "Tutorial: Develop and plan
// provisioning for a SCIM endpoint", request and response examples).
func TestEntraUserSequence(t *testing.T) {
	srv := apitest.NewServer(t)
	c := newClient(t, srv, apitest.Tenant("entra"))
	const userName = "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"
	const email = "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2b@testuser.com"

	// Get User by query - Zero results: the ListResponse is empty, not an error.
	r := c.do("GET", "/Users"+q("filter", `userName eq "`+userName+`"`), nil).want(t, http.StatusOK)
	if res, ok := r.body["Resources"].([]any); !ok || len(res) != 0 || r.body["totalResults"] != 0.0 {
		t.Fatalf("lookup before create: %s", r.raw)
	}

	// Create User.
	r = c.do("POST", "/Users", `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"externalId": "0a21f0f2-8d2a-4f8e-bf98-8f2b2a8a1b3c",
		"userName": "`+userName+`",
		"active": true,
		"emails": [{"primary": true, "type": "work", "value": "`+email+`"}],
		"meta": {"resourceType": "User"},
		"name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
		"roles": [],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales", "employeeNumber": "701984"}
	}`).want(t, http.StatusCreated)
	id := str(r.body, "id")
	if !strings.HasPrefix(id, "per_") || str(r.body, "userName") != userName || r.body["active"] != true ||
		str(r.body, "externalId") != "0a21f0f2-8d2a-4f8e-bf98-8f2b2a8a1b3c" || str(r.body, "name", "formatted") != "givenName familyName" {
		t.Fatalf("created user: %s", r.raw)
	}
	if emails, _ := r.body["emails"].([]any); len(emails) != 1 || str(emails[0], "value") != email || str(emails[0], "type") != "work" {
		t.Fatalf("created user's emails: %s", r.raw)
	}
	loc := str(r.body, "meta", "location")
	if str(r.body, "meta", "resourceType") != "User" || !strings.HasSuffix(loc, "/scim/v2/Users/"+id) ||
		r.header.Get("Location") != loc || str(r.body, "meta", "created") == "" || str(r.body, "meta", "lastModified") == "" {
		t.Fatalf("meta %v, Location %q", r.body["meta"], r.header.Get("Location"))
	}
	etag := r.header.Get("ETag")
	if etag == "" || etag != str(r.body, "meta", "version") {
		t.Fatalf("ETag %q, meta.version %q", etag, str(r.body, "meta", "version"))
	}

	// Get User, and Get User by query (userName, externalId, work email; userName ignoring case).
	c.do("GET", "/Users/"+id, nil).want(t, http.StatusOK)
	for _, f := range []string{`userName eq "` + strings.ToUpper(userName) + `"`, `externalId eq "0a21f0f2-8d2a-4f8e-bf98-8f2b2a8a1b3c"`,
		`emails[type eq "work"].value eq "` + email + `"`, `userName eq "` + userName + `" and active eq true`} {
		r = c.do("GET", "/Users"+q("filter", f), nil).want(t, http.StatusOK)
		if res := r.resources(t); len(res) != 1 || res[0]["id"] != id || r.body["totalResults"] != 1.0 {
			t.Fatalf("filter %s: %s", f, r.raw)
		}
	}
	r = c.do("GET", "/Users"+q("filter", `externalId eq "0A21F0F2-8D2A-4F8E-BF98-8F2B2A8A1B3C"`), nil).want(t, http.StatusOK)
	if len(r.resources(t)) != 0 {
		t.Fatalf("externalId is case-exact, but a different case matched: %s", r.raw)
	}

	// Update User [Multi-valued properties].
	r = c.do("PATCH", "/Users/"+id, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
		{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
		{"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}]}`).want(t, http.StatusOK)
	if emails, _ := r.body["emails"].([]any); len(emails) != 1 || str(emails[0], "value") != "updatedEmail@microsoft.com" ||
		str(r.body, "name", "formatted") != "givenName updatedFamilyName" {
		t.Fatalf("after the multi-valued update: %s", r.raw)
	}

	// Update User [Single-valued properties].
	r = c.do("PATCH", "/Users/"+id, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
		{"op": "Replace", "path": "userName", "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}]}`).want(t, http.StatusOK)
	if str(r.body, "userName") != "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com" {
		t.Fatalf("after the single-valued update: %s", r.raw)
	}

	// Disable User, as Entra sends it without the aadOptscim062020 flag
	// (a string boolean) and with it (a boolean): the user is still there.
	for _, v := range []string{`"False"`, `false`} {
		r = c.do("PATCH", "/Users/"+id, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations": [{"op": "Replace", "path": "active", "value": `+v+`}]}`).want(t, http.StatusOK)
		if r.body["active"] != false {
			t.Fatalf("after active=%s: %s", v, r.raw)
		}
	}
	r = c.do("GET", "/Users"+q("filter", `userName eq "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"`), nil).want(t, http.StatusOK)
	if res := r.resources(t); len(res) != 1 || res[0]["active"] != false {
		t.Fatalf("a disabled user is still returned, with active false: %s", r.raw)
	}
	// Entra's no-path form, and an Add in mixed case: re-enabled.
	r = c.do("PATCH", "/Users/"+id, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "Add", "value": {"active": "True", "displayName": "Given Family"}}]}`).want(t, http.StatusOK)
	if r.body["active"] != true || str(r.body, "displayName") != "Given Family" {
		t.Fatalf("after the no-path add: %s", r.raw)
	}

	// With ?aadOptscim062020 Entra sends one path-less replace whose keys
	// are attribute paths (the compliant form in Microsoft's "Known issues
	// and resolutions with SCIM 2.0 protocol compliance"); each is
	// applied, the enterprise extension (not kept) ignored.
	r = c.do("PATCH", "/Users/"+id+"?aadOptscim062020", `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "replace", "value": {
			"displayName": "Pvlo Pkqf",
			"emails[type eq \"work\"].value": "TestBcwqnm@test.microsoft.com",
			"name.givenName": "Gtfd",
			"name.familyName": "Pkqf",
			"externalId": "Eqpj",
			"urn:ietf:params:scim:schemas:core:2.0:User:userName": "compliant@testuser.com",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Eqpj",
			"active": false}}]}`).want(t, http.StatusOK)
	if emails, _ := r.body["emails"].([]any); len(emails) != 1 || str(emails[0], "value") != "TestBcwqnm@test.microsoft.com" ||
		str(r.body, "userName") != "compliant@testuser.com" || str(r.body, "externalId") != "Eqpj" ||
		str(r.body, "name", "formatted") != "Gtfd Pkqf" || r.body["active"] != false {
		t.Fatalf("after the compliant path-less replace: %s", r.raw)
	}
	// A key that is no attribute of a User is refused, and changes nothing.
	for _, key := range []string{"shoeSize", "urn:ietf:params:scim:schemas:core:2.0:User:shoeSize", "name.nickName", "emails[type eq"} {
		c.do("PATCH", "/Users/"+id+"?aadOptscim062020", `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations": [{"op": "replace", "value": {"displayName": "Changed", "`+key+`": "42"}}]}`).
			wantError(t, http.StatusBadRequest, "invalidPath")
	}
	// Extensions seatgraph does not keep (a custom one, with or without a
	// path) are accepted and ignored.
	c.do("PATCH", "/Users/"+id+"?aadOptscim062020", `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
		{"op": "replace", "value": {"urn:ietf:params:scim:schemas:extension:custom:2.0:User:worksiteId": "180",
			"urn:ietf:params:scim:schemas:extension:custom:2.0:User": {"costCenter": "7"}}},
		{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:custom:2.0:User:employeeNumber", "value": "99887766"}]}`).
		want(t, http.StatusOK)
	if r := c.do("GET", "/Users/"+id, nil).want(t, http.StatusOK); str(r.body, "displayName") != "Gtfd Pkqf" {
		t.Fatalf("a refused PATCH changed the user: %s", r.raw)
	}
	// Back to the names the rest of the sequence uses.
	c.do("PATCH", "/Users/"+id, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {
		"userName": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com", "emails[type eq \"work\"].value": "updatedEmail@microsoft.com",
		"active": true}}]}`).want(t, http.StatusOK)

	// Create a second user with the same userName: 409 uniqueness.
	c.do("POST", "/Users", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName": "5B50642D-79fc-4410-9e90-4c077cdd1a59@testuser.com", "emails": [{"value": "other@testuser.com", "type": "work"}]}`).
		wantError(t, http.StatusConflict, "uniqueness")
	// ... or the same email.
	c.do("POST", "/Users", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName": "someone.else", "emails": [{"value": "UpdatedEmail@microsoft.com", "type": "work"}]}`).
		wantError(t, http.StatusConflict, "uniqueness")

	// Delete User; afterwards it is not found.
	r = c.do("DELETE", "/Users/"+id, nil).want(t, http.StatusNoContent)
	c.do("GET", "/Users/"+id, nil).wantError(t, http.StatusNotFound, "")
	c.do("DELETE", "/Users/"+id, nil).wantError(t, http.StatusNotFound, "")
}

// The group requests Entra ID sends (same documentation): create, look up
// by displayName without members, rename, add and remove members.
func TestEntraGroupSequence(t *testing.T) {
	srv := apitest.NewServer(t)
	c := newClient(t, srv, apitest.Tenant("entra-groups"))
	var people []string
	for _, u := range []string{"ann", "bob", "cyd"} {
		r := c.do("POST", "/Users", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "`+u+`@contoso.com", "active": true}`).
			want(t, http.StatusCreated)
		people = append(people, str(r.body, "id"))
	}

	r := c.do("POST", "/Groups", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
		"http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
		"externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "displayName", "meta": {"resourceType": "Group"}}`).
		want(t, http.StatusCreated)
	id := str(r.body, "id")
	if !strings.HasPrefix(id, "grp_") || str(r.body, "displayName") != "displayName" || str(r.body, "meta", "resourceType") != "Group" ||
		str(r.body, "externalId") != "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159" {
		t.Fatalf("created group: %s", r.raw)
	}

	// Get Group by displayName, and by id, excluding members.
	r = c.do("GET", "/Groups"+q("excludedAttributes", "members", "filter", `displayName eq "displayName"`), nil).want(t, http.StatusOK)
	if res := r.resources(t); len(res) != 1 || res[0]["id"] != id || res[0]["members"] != nil {
		t.Fatalf("group by displayName without members: %s", r.raw)
	}
	r = c.do("GET", "/Groups/"+id+q("excludedAttributes", "members"), nil).want(t, http.StatusOK)
	if _, has := r.body["members"]; has || str(r.body, "displayName") != "displayName" {
		t.Fatalf("group by id without members: %s", r.raw)
	}

	// Update Group [Non-member attributes].
	c.do("PATCH", "/Groups/"+id, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "Replace", "path": "displayName", "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}]}`).
		want(t, http.StatusNoContent)
	// Update Group [Add Members]: several in one operation, $ref null.
	c.do("PATCH", "/Groups/"+id, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "`+people[0]+`"},
			{"$ref": null, "value": "`+people[1]+`"}, {"$ref": null, "value": "`+people[2]+`"}]}]}`).want(t, http.StatusNoContent)
	// Update Group [Remove Members]: Entra names them in value.
	c.do("PATCH", "/Groups/"+id, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "`+people[1]+`"}]}]}`).want(t, http.StatusNoContent)

	r = c.do("GET", "/Groups/"+id, nil).want(t, http.StatusOK)
	if str(r.body, "displayName") != "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName" {
		t.Fatalf("renamed group: %s", r.raw)
	}
	members, _ := r.body["members"].([]any)
	if len(members) != 2 || str(members[0], "value") != people[0] || str(members[1], "value") != people[2] ||
		str(members[0], "display") != "ann@contoso.com" {
		t.Fatalf("members after add 3, remove 1: %s", r.raw)
	}
	r = c.do("GET", "/Groups"+q("filter", `members[value eq "`+people[2]+`"]`), nil).want(t, http.StatusOK)
	if len(r.resources(t)) != 1 {
		t.Fatalf("groups of a member: %s", r.raw)
	}

	// Delete Group.
	c.do("DELETE", "/Groups/"+id, nil).want(t, http.StatusNoContent)
	c.do("GET", "/Groups/"+id, nil).wantError(t, http.StatusNotFound, "")
}

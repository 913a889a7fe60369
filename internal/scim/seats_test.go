package scim_test

import (
	"net/http"
	"testing"

	"seatgraph/internal/apitest"
)

// graphQL runs a GraphQL operation as an admin of tenant and returns data.
func graphQL(t *testing.T, srv *apitest.Server, tenant, query string, vars map[string]any) map[string]any {
	t.Helper()
	return srv.MustDo(t, apitest.Token(t, tenant), query, vars)
}

func licenseSeats(t *testing.T, srv *apitest.Server, tenant, license string) map[string]any {
	t.Helper()
	d := graphQL(t, srv, tenant, `query($id: ID!) { license(id: $id) { seats { used waitlisted available } } }`, map[string]any{"id": license})
	return d["license"].(map[string]any)["seats"].(map[string]any)
}

func statuses(t *testing.T, srv *apitest.Server, tenant, person string) []any {
	t.Helper()
	d := graphQL(t, srv, tenant, `query($id: ID!) { person(id: $id) { source active assignments { nodes { status } } } }`,
		map[string]any{"id": person})
	p := d["person"].(map[string]any)
	if p["source"] != "scim" {
		t.Fatalf("a person SCIM created has source %v, want scim", p["source"])
	}
	var out []any
	for _, n := range p["assignments"].(map[string]any)["nodes"].([]any) {
		out = append(out, n.(map[string]any)["status"])
	}
	return out
}

// Seats follow SCIM at once: a group granted a license with one seat gets
// two members from the identity provider; the second is WAITLISTED (the
// request succeeds, nothing is over-assigned). Deactivating the first
// frees the seat for the second in the same request; the deactivated user
// is still returned; reactivating queues them behind.
func TestSCIMSeatsFollowMembershipAndDeactivation(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("scim-seats")
	c := newClient(t, srv, tenant)

	ann := str(c.do("POST", "/Users", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ann@corp.example"}`).
		want(t, http.StatusCreated).body, "id")
	bob := str(c.do("POST", "/Users", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bob@corp.example"}`).
		want(t, http.StatusCreated).body, "id")
	grp := str(c.do("POST", "/Groups", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Design"}`).
		want(t, http.StatusCreated).body, "id")

	d := graphQL(t, srv, tenant, `mutation { createLicense(input: {name: "Figma", totalSeats: 1}) { license { id } } }`, nil)
	lic := d["createLicense"].(map[string]any)["license"].(map[string]any)["id"].(string)
	graphQL(t, srv, tenant, `mutation($l: ID!, $g: ID!) { assignLicense(input: {licenseId: $l, groupId: $g}) { userErrors { code } } }`,
		map[string]any{"l": lic, "g": grp})

	c.do("PATCH", "/Groups/"+grp, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
		{"op": "Add", "path": "members", "value": [{"value": "`+ann+`"}, {"value": "`+bob+`"}]}]}`).want(t, http.StatusNoContent)
	if s := licenseSeats(t, srv, tenant, lic); s["used"] != 1.0 || s["waitlisted"] != 1.0 {
		t.Fatalf("two members on one seat: %v, want used 1, waitlisted 1", s)
	}
	if a, b := statuses(t, srv, tenant, ann), statuses(t, srv, tenant, bob); len(a) != 1 || a[0] != "ACTIVE" || len(b) != 1 || b[0] != "WAITLISTED" {
		t.Fatalf("ann %v, bob %v; want ACTIVE and WAITLISTED", a, b)
	}

	r := c.do("PATCH", "/Users/"+ann, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "Replace", "path": "active", "value": "False"}]}`).want(t, http.StatusOK)
	if r.body["active"] != false {
		t.Fatalf("deactivated: %s", r.raw)
	}
	if a, b := statuses(t, srv, tenant, ann), statuses(t, srv, tenant, bob); a[0] != "DEACTIVATED" || b[0] != "ACTIVE" {
		t.Fatalf("after ann's deactivation: ann %v, bob %v; want DEACTIVATED and ACTIVE (promoted)", a, b)
	}
	if s := licenseSeats(t, srv, tenant, lic); s["used"] != 1.0 || s["waitlisted"] != 0.0 {
		t.Fatalf("after deactivation: %v", s)
	}
	if r := c.do("GET", "/Users/"+ann, nil).want(t, http.StatusOK); r.body["active"] != false {
		t.Fatalf("the deactivated user: %s", r.raw)
	}

	c.do("PATCH", "/Users/"+ann, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "replace", "value": {"active": true}}]}`).want(t, http.StatusOK)
	if a := statuses(t, srv, tenant, ann); a[0] != "WAITLISTED" {
		t.Fatalf("reactivated on a full license: %v, want WAITLISTED", a)
	}
	if s := licenseSeats(t, srv, tenant, lic); s["used"] != 1.0 || s["waitlisted"] != 1.0 {
		t.Fatalf("after reactivation: %v", s)
	}

	// A user the identity provider creates deactivated holds no seat when added.
	cy := str(c.do("POST", "/Users", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "cy@corp.example", "active": false}`).
		want(t, http.StatusCreated).body, "id")
	c.do("PATCH", "/Groups/"+grp, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
		{"op": "add", "path": "members", "value": [{"value": "`+cy+`"}]}]}`).want(t, http.StatusNoContent)
	if a := statuses(t, srv, tenant, cy); a[0] != "DEACTIVATED" {
		t.Fatalf("a deactivated newcomer: %v, want DEACTIVATED", a)
	}
	if s := licenseSeats(t, srv, tenant, lic); s["used"] != 1.0 || s["waitlisted"] != 1.0 {
		t.Fatalf("after a deactivated newcomer: %v", s)
	}

	// Leaving the group frees bob's seat for ann, in the same request.
	c.do("PATCH", "/Groups/"+grp, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
		{"op": "remove", "path": "members[value eq \"`+bob+`\"]"}]}`).want(t, http.StatusNoContent)
	if a := statuses(t, srv, tenant, ann); a[0] != "ACTIVE" {
		t.Fatalf("after bob left: ann %v, want ACTIVE", a)
	}
}

// Identity providers send membership changes concurrently: however they
// interleave, a license is never over-assigned and no request fails for
// lack of seats.
func TestSCIMConcurrentAddsNeverOverAssign(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("scim-race")
	c := newClient(t, srv, tenant)
	grp := str(c.do("POST", "/Groups", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Eng"}`).
		want(t, http.StatusCreated).body, "id")
	d := graphQL(t, srv, tenant, `mutation { createLicense(input: {name: "IDE", totalSeats: 3}) { license { id } } }`, nil)
	lic := d["createLicense"].(map[string]any)["license"].(map[string]any)["id"].(string)
	graphQL(t, srv, tenant, `mutation($l: ID!, $g: ID!) { assignLicense(input: {licenseId: $l, groupId: $g}) { userErrors { code } } }`,
		map[string]any{"l": lic, "g": grp})
	const n = 10
	users := make([]string, n)
	for i := range users {
		users[i] = str(c.do("POST", "/Users", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "u`+itoa(i)+`@corp.example"}`).
			want(t, http.StatusCreated).body, "id")
	}
	statuses := make(chan int, n)
	for _, u := range users {
		go func() {
			statuses <- c.do("PATCH", "/Groups/"+grp, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
				{"op": "add", "path": "members", "value": [{"value": "`+u+`"}]}]}`).status
		}()
	}
	for range n {
		if s := <-statuses; s != http.StatusNoContent {
			t.Errorf("a concurrent member add answered %d, want 204", s)
		}
	}
	if s := licenseSeats(t, srv, tenant, lic); s["used"] != 3.0 || s["waitlisted"] != float64(n-3) || s["available"] != 0.0 {
		t.Fatalf("after %d concurrent adds on 3 seats: %v, want used 3, waitlisted %d", n, s, n-3)
	}
}

// Members added in one request take seats in the order the request names
// them (not in id order): the first named gets the last seat.
func TestSCIMMemberAddsKeepRequestOrder(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("scim-order")
	c := newClient(t, srv, tenant)
	var ids []string
	for _, n := range []string{"a", "b", "c"} {
		ids = append(ids, str(c.do("POST", "/Users", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "`+n+`@corp.example"}`).
			want(t, http.StatusCreated).body, "id"))
	}
	grp := str(c.do("POST", "/Groups", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Ops"}`).
		want(t, http.StatusCreated).body, "id")
	d := graphQL(t, srv, tenant, `mutation { createLicense(input: {name: "Pager", totalSeats: 1}) { license { id } } }`, nil)
	lic := d["createLicense"].(map[string]any)["license"].(map[string]any)["id"].(string)
	graphQL(t, srv, tenant, `mutation($l: ID!, $g: ID!) { assignLicense(input: {licenseId: $l, groupId: $g}) { userErrors { code } } }`,
		map[string]any{"l": lic, "g": grp})
	// c (created last), then a, then b, in two operations.
	c.do("PATCH", "/Groups/"+grp, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
		{"op": "add", "path": "members", "value": [{"value": "`+ids[2]+`"}, {"value": "`+ids[0]+`"}]},
		{"op": "add", "path": "members", "value": [{"value": "`+ids[1]+`"}]}]}`).want(t, http.StatusNoContent)
	for i, want := range []string{"WAITLISTED", "WAITLISTED", "ACTIVE"} {
		if s := statuses(t, srv, tenant, ids[i]); len(s) != 1 || s[0] != want {
			t.Fatalf("user %d: %v, want %s (the first named takes the seat)", i, s, want)
		}
	}
	// The waitlist follows the request order too: a leaves the queue's
	// head to b only after c's seat frees.
	c.do("PATCH", "/Groups/"+grp, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
		{"op": "remove", "path": "members[value eq \"`+ids[2]+`\"]"}]}`).want(t, http.StatusNoContent)
	if a, b := statuses(t, srv, tenant, ids[0]), statuses(t, srv, tenant, ids[1]); a[0] != "ACTIVE" || b[0] != "WAITLISTED" {
		t.Fatalf("after c left: a %v, b %v; want a promoted first", a, b)
	}
}

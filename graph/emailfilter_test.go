package graph_test

import (
	"testing"

	"seatgraph/internal/apitest"
)

// The email filters ignore case and follow an address change: they
// compare the stored lower-case copy PostgreSQL keeps of each address
// (email_normalized, a generated column, so that the filters can use an
// index under row-level security), which must never lag the address.
func TestEmailFiltersFollowTheAddress(t *testing.T) {
	srv := apitest.NewServer(t)
	a := newAPI(t, srv, apitest.Tenant("emailfilter"))
	lic := a.license("Figma", 0)
	grace := a.person("Grace.Hopper@Example.com")
	a.person("alan@example.com")
	a.assign(lic, map[string]any{"personId": grace})
	a.assign(lic, map[string]any{"email": "Ada.Lovelace@Example.com"})

	const q = `query($email: String!) {
	  people(filter: { email: $email }) { nodes { id } }
	  personByEmail(email: $email) { id }
	  assignments(filter: { email: $email }) { nodes { assigneeId email } }
	}`
	find := func(email string) (people []any, byEmail any, grants []any) {
		t.Helper()
		d := a.query(q, map[string]any{"email": email})
		return d["people"].(map[string]any)["nodes"].([]any), d["personByEmail"],
			d["assignments"].(map[string]any)["nodes"].([]any)
	}

	people, byEmail, grants := find("GRACE.hopper@example.COM")
	if len(people) != 1 || people[0].(map[string]any)["id"] != grace || byEmail == nil ||
		byEmail.(map[string]any)["id"] != grace || len(grants) != 1 || grants[0].(map[string]any)["assigneeId"] != grace {
		t.Fatalf("Grace in another case: people %v, personByEmail %v, assignments %v", people, byEmail, grants)
	}
	if _, _, grants := find("ada.lovelace@EXAMPLE.com"); len(grants) != 1 || grants[0].(map[string]any)["email"] != "Ada.Lovelace@Example.com" {
		t.Fatalf("the email grant in another case: %v", grants)
	}

	a.ok("updatePerson", "person { id }", map[string]any{"id": grace, "email": "Rear.Admiral@Example.com"})
	if people, byEmail, grants := find("grace.hopper@example.com"); len(people) != 0 || byEmail != nil || len(grants) != 0 {
		t.Fatalf("the old address still finds: people %v, personByEmail %v, assignments %v", people, byEmail, grants)
	}
	if people, byEmail, grants := find("rear.admiral@example.com"); len(people) != 1 || byEmail == nil || len(grants) != 1 {
		t.Fatalf("the new address: people %v, personByEmail %v, assignments %v", people, byEmail, grants)
	}
}

package graph_test

import (
	"fmt"
	"testing"

	"seatgraph/internal/apitest"
	"seatgraph/internal/store"
)

// TestPersonByEmailLookupsReadIndex: the writes that look a person up by
// email (createPerson's check that the address is free, assignLicense and
// assignLicenses to an address) read the address's index entry, not
// every person of the tenant. Under forced row-level security only a
// leakproof comparison can be an index condition, and lower(p.email) =
// lower(…) is not one: a new address (which no person has) was looked
// for in every row.
func TestPersonByEmailLookupsReadIndex(t *testing.T) {
	sent := &apitest.Statements{}
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) { c.Store.Hooks = append(c.Store.Hooks, sent) })
	tenant := apitest.Tenant("emaillookup")
	f := apitest.NewFixture(t, srv.DB, tenant)
	for i := range 5 {
		f.People(fmt.Sprint("p", i), 1000)
	}
	if _, err := apitest.DB(t).SQL(t).Exec("ANALYZE people"); err != nil {
		t.Fatal(err)
	}
	a := newAPI(t, srv, tenant)
	lic := a.license("Lookups", 0)
	a.person("New.Person@" + tenant + ".example")
	a.assign(lic, map[string]any{"email": "invited@" + tenant + ".example"})
	a.ok("assignLicenses", "assignments { id }", map[string]any{"items": []any{
		map[string]any{"licenseId": lic, "email": "P3-42@" + tenant + ".example"},
		map[string]any{"licenseId": lic, "email": "invited-too@" + tenant + ".example"}}})

	lookupsReadIndex(t, sent, tenant, "email", "lower(p.email)", "email_normalized")
}

// lookupsReadIndex fails when no statement sent looked people up by what
// (one of the columns), or when one read more than a few pages.
func lookupsReadIndex(t *testing.T, sent *apitest.Statements, tenant, what string, columns ...string) {
	t.Helper()
	n := 0
	for _, c := range columns {
		for _, q := range sent.Matching(`FROM "people"`, c) {
			n++
			if r := apitest.DB(t).Reads(t, tenant, q); r.Generic > 20 {
				t.Errorf("a look-up by %s read %d pages among 5,000 people:\n%s\n%.600s", what, r.Generic, r.Plan, store.Text(q))
			}
		}
	}
	if n == 0 {
		t.Fatalf("no statement looked a person up by %s", what)
	}
}

// TestPersonByUsernameLookupsReadIndex: as by email, so by username
// (createPerson's check that the username is free, assignLicense and
// assignLicenses to a username): lower(p.username) = lower(…) is not
// leakproof either.
func TestPersonByUsernameLookupsReadIndex(t *testing.T) {
	sent := &apitest.Statements{}
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) { c.Store.Hooks = append(c.Store.Hooks, sent) })
	tenant := apitest.Tenant("userlookup")
	f := apitest.NewFixture(t, srv.DB, tenant)
	for i := range 5 {
		f.People(fmt.Sprint("p", i), 1000)
	}
	super := apitest.DB(t).SQL(t)
	sqlExec(t, super, "UPDATE people SET username = split_part(email, '@', 1) WHERE tenant_id = $1", tenant)
	sqlExec(t, super, "ANALYZE people")
	a := newAPI(t, srv, tenant)
	lic := a.license("Lookups", 0)
	a.ok("createPerson", "person { id }", map[string]any{"email": "new@" + tenant + ".example", "name": "New", "username": "New.User"})
	a.assign(lic, map[string]any{"username": "P2-17"})
	a.ok("assignLicenses", "assignments { id }", map[string]any{"items": []any{
		map[string]any{"licenseId": lic, "username": "p3-42"}, map[string]any{"licenseId": lic, "username": "new.user"}}})

	lookupsReadIndex(t, sent, tenant, "username", "lower(p.username)", "username_normalized")
}

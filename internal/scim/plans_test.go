package scim_test

import (
	"fmt"
	"net/url"
	"testing"

	"seatgraph/internal/apitest"
)

// TestUserFilterByEmailReadsIndex: an identity provider looks a user up by
// email before it creates one; the look-up reads the person's index entry,
// not every person of the tenant (under forced row-level security only a
// leakproof comparison is an index condition, and lower(p.email) = … is
// not one).
func TestUserFilterByEmailReadsIndex(t *testing.T) {
	sent := &apitest.Statements{}
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) { c.Store.Hooks = append(c.Store.Hooks, sent) })
	tenant := apitest.Tenant("scimplan")
	f := apitest.NewFixture(t, srv.DB, tenant)
	for i := range 5 {
		f.People(fmt.Sprint("p", i), 1000)
	}
	if _, err := apitest.DB(t).SQL(t).Exec("ANALYZE people"); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv, tenant)
	for _, filter := range []string{`emails[type eq "work"].value eq "P3-42@` + tenant + `.example"`,
		`emails eq "p3-42@` + tenant + `.EXAMPLE"`} {
		r := c.do("GET", "/Users?filter="+url.QueryEscape(filter), nil)
		if r.status != 200 || r.body["totalResults"] != float64(1) {
			t.Fatalf("%s: %d %s", filter, r.status, r.raw)
		}
	}
	found := sent.Matching(`FROM "people"`, "email")
	if len(found) == 0 {
		t.Fatal("no statement read people by email")
	}
	for _, q := range found {
		if r := apitest.DB(t).Reads(t, tenant, q); r.Generic > 20 || r.Custom > 20 {
			t.Errorf("a look-up by email read %d pages (%d planned for its values) among 5,000 people:\n%s", r.Generic, r.Custom, r.Plan)
		}
	}
}

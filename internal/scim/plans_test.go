package scim_test

import (
	"fmt"
	"net/url"
	"testing"

	"seatgraph/internal/apitest"
)

// TestUserFilterReadsIndex: an identity provider looks a user up by
// email or userName before it creates one; the look-up reads the person's index entry,
// not every person of the tenant (under forced row-level security only a
// leakproof comparison is an index condition, and lower(p.email) = … is
// not one, nor lower(p.username) = …).
func TestUserFilterReadsIndex(t *testing.T) {
	sent := &apitest.Statements{}
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) { c.Store.Hooks = append(c.Store.Hooks, sent) })
	tenant := apitest.Tenant("scimplan")
	f := apitest.NewFixture(t, srv.DB, tenant)
	for i := range 5 {
		f.People(fmt.Sprint("p", i), 1000)
	}
	if _, err := apitest.DB(t).SQL(t).Exec("UPDATE people SET username = split_part(email, '@', 1) WHERE tenant_id = $1", tenant); err != nil {
		t.Fatal(err)
	}
	if _, err := apitest.DB(t).SQL(t).Exec("ANALYZE people"); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv, tenant)
	for _, filter := range []string{`emails[type eq "work"].value eq "P3-42@` + tenant + `.example"`,
		`emails eq "p3-42@` + tenant + `.EXAMPLE"`, `userName eq "P3-42"`} {
		r := c.do("GET", "/Users?filter="+url.QueryEscape(filter), nil)
		if r.status != 200 || r.body["totalResults"] != float64(1) {
			t.Fatalf("%s: %d %s", filter, r.status, r.raw)
		}
	}
	found := append(sent.Matching(`FROM "people"`, "lower(p.email)"), sent.Matching(`FROM "people"`, "email_normalized")...)
	found = append(found, sent.Matching(`FROM "people"`, "lower(p.username)")...)
	found = append(found, sent.Matching(`FROM "people"`, "username_normalized")...)
	if len(found) < 3 {
		t.Fatalf("%d statements read people by email or username; want 3 at least", len(found))
	}
	for _, q := range found {
		if r := apitest.DB(t).Reads(t, tenant, q); r.Generic > 20 || r.Custom > 20 {
			t.Errorf("a look-up read %d pages (%d planned for its values) among 5,000 people:\n%s", r.Generic, r.Custom, r.Plan)
		}
	}
}

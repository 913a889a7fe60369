package graph_test

import (
	"encoding/json"
	"testing"

	"seatgraph/internal/apitest"
	"seatgraph/internal/auth"
)

// TestAppAssignByEmail: an application assigning its license by email
// reaches only its own people. An address of a person outside the app
// (the tenant's, another app's) is answered exactly as an address of
// nobody: an invitation, PENDING, with or without dryRun; the person
// outside gets no grant. Only the app's own person is granted directly.
func TestAppAssignByEmail(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("appwall")
	db := apitest.DB(t).SQL(t)
	admin := newAPI(t, srv, tenant)
	billing := &api{t: t, srv: srv, tok: apitest.TokenFor(t, auth.TokenRequest{Tenant: tenant, Subject: "billing-bot", App: "billing"})}
	crm := &api{t: t, srv: srv, tok: apitest.TokenFor(t, auth.TokenRequest{Tenant: tenant, Subject: "crm-bot", App: "crm"})}
	ada := admin.person("ada@appwall.example")
	crm.person("carl@appwall.example")
	billing.person("bill@appwall.example")
	lic := billing.license("Billing Suite", 5)
	// The tenant's person already holds a seat of the app's license, by an admin's grant.
	admin.assign(lic, map[string]any{"personId": ada})

	const fields = "assignment { status assigneeType assigneeId fulfilled } created seats { used pending available waitlisted }"
	answer := func(email string, dryRun bool) string {
		p := billing.mutate("assignLicense", fields, map[string]any{"licenseId": lic, "email": email, "dryRun": dryRun})
		b, _ := json.Marshal(p)
		return string(b)
	}
	for who, email := range map[string]string{"the tenant's person": "ada@appwall.example", "another app's person": "carl@appwall.example"} {
		nobody := answer("nobody@appwall.example", true)
		if got := answer(email, true); got != nobody {
			t.Errorf("dryRun by the address of %s answers\n%s\nbut the address of nobody\n%s", who, got, nobody)
		}
		if got := answer(email, false); got != nobody {
			t.Errorf("assigning by the address of %s answers\n%s\nbut the address of nobody would\n%s", who, got, nobody)
		}
	}
	if n := sqlInt(t, db, `SELECT count(*) FROM assignments WHERE tenant_id = $1 AND person_id IN
		(SELECT id FROM people WHERE tenant_id = $1 AND email IN ('ada@appwall.example', 'carl@appwall.example')) AND app_id = 'billing'`, tenant); n != 0 {
		t.Errorf("the billing app granted %d seats to people outside it", n)
	}
	// The app's own person, by email, is granted directly.
	own := billing.mutate("assignLicense", fields, map[string]any{"licenseId": lic, "email": "bill@appwall.example"})
	if st := jsonAt(t, own, "assignment", "status"); st != "ACTIVE" {
		t.Errorf("the app's own person by email: %v, want ACTIVE", st)
	}
}

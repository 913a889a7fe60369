package graph_test

import (
	"testing"

	"seatgraph/internal/apitest"
)

// A username is unique per tenant, ignoring case (assignLicense and SCIM
// find people by it); another tenant may use it.
func TestUsernameUniquePerTenant(t *testing.T) {
	srv := apitest.NewServer(t)
	a := newAPI(t, srv, apitest.Tenant("uname"))
	ada := idAt(t, a.ok("createPerson", "person { id }", map[string]any{"email": "ada@example.com", "username": "ada"}), "person", "id")
	ben := idAt(t, a.ok("createPerson", "person { id }", map[string]any{"email": "ben@example.com", "username": "ben"}), "person", "id")

	e := a.fails("createPerson", "CONFLICT", map[string]any{"email": "ada2@example.com", "username": "ADA"})
	if e["field"] != "input.username" {
		t.Fatalf("conflict on %v, want input.username", e["field"])
	}
	a.fails("updatePerson", "CONFLICT", map[string]any{"id": ben, "username": "Ada"})
	// Renaming oneself in another case is not a conflict.
	a.ok("updatePerson", "person { id }", map[string]any{"id": ada, "username": "ADA"})
	newAPI(t, srv, apitest.Tenant("uname-other")).ok("createPerson", "person { id }", map[string]any{"email": "ada@example.com", "username": "ada"})
}

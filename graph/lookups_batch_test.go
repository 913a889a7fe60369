package graph_test

import (
	"testing"

	"seatgraph/internal/apitest"
)

// TestAssignLicensesMixedKeys: one assignLicenses batch that names people
// by id, by username and by email (in another case than stored, letters
// beyond ASCII included) grants each item to the person it names, and an
// address no person has becomes an invitation: the lock of the batch's
// people (assign.go lockAhead) is built from the kinds of key it uses.
func TestAssignLicensesMixedKeys(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("mixedkeys")
	a := newAPI(t, srv, tenant)
	lic := a.license("Mixed", 0)
	byID := a.person("by.id@" + tenant + ".example")
	byName := idAt(t, a.ok("createPerson", "person { id }", map[string]any{"email": "by.name@" + tenant + ".example",
		"name": "Ödön", "username": "Ödön.Åsa"}), "person", "id")
	byEmail := idAt(t, a.ok("createPerson", "person { id }", map[string]any{"email": "Élodie@" + tenant + ".example",
		"name": "Élodie"}), "person", "id")
	p := a.ok("assignLicenses", "assignments { assigneeType assignee { ... on Person { id } } email }", map[string]any{"items": []any{
		map[string]any{"licenseId": lic, "personId": byID},
		map[string]any{"licenseId": lic, "username": "ÖDÖN.åSA"},
		map[string]any{"licenseId": lic, "email": "éLODIE@" + tenant + ".EXAMPLE"},
		map[string]any{"licenseId": lic, "email": "nobody.yet@" + tenant + ".example"},
	}})
	got := p["assignments"].([]any)
	if len(got) != 4 {
		t.Fatalf("%d assignments: %v", len(got), got)
	}
	for i, want := range []string{byID, byName, byEmail, ""} {
		g := got[i].(map[string]any)
		if want == "" {
			if g["assigneeType"] != "EMAIL" || g["assignee"] != nil {
				t.Errorf("item %d: %v, want an invitation", i, g)
			}
			continue
		}
		if who, _ := g["assignee"].(map[string]any); g["assigneeType"] != "PERSON" || who["id"] != want {
			t.Errorf("item %d: %v, want person %s", i, g, want)
		}
	}
}

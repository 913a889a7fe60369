package graph_test

import (
	"database/sql"
	"testing"

	"seatgraph/internal/apitest"
)

// api is one tenant's view of a server: a token and the server.
type api struct {
	t   *testing.T
	srv *apitest.Server
	tok string
}

func newAPI(t *testing.T, srv *apitest.Server, tenant string, scopes ...string) *api {
	return &api{t: t, srv: srv, tok: apitest.Token(t, tenant, scopes...)}
}

// mutate runs a mutation taking $input and returns its payload.
func (a *api) mutate(field, selection string, input map[string]any) map[string]any {
	a.t.Helper()
	q := "mutation($input: " + inputType[field] + "!) { " + field + "(input: $input) { " + selection + " userErrors { field message code } } }"
	data := a.srv.MustDo(a.t, a.tok, q, map[string]any{"input": input})
	return data[field].(map[string]any)
}

// ok runs a mutation that must succeed (no userErrors).
func (a *api) ok(field, selection string, input map[string]any) map[string]any {
	a.t.Helper()
	p := a.mutate(field, selection, input)
	if errs := p["userErrors"].([]any); len(errs) > 0 {
		a.t.Fatalf("%s: unexpected userErrors %v", field, errs)
	}
	return p
}

// fails runs a mutation that must fail with code and returns the error.
func (a *api) fails(field, code string, input map[string]any) map[string]any {
	a.t.Helper()
	p := a.mutate(field, "", input)
	errs := p["userErrors"].([]any)
	if len(errs) == 0 {
		a.t.Fatalf("%s: want userError %s, got none", field, code)
	}
	e := errs[0].(map[string]any)
	if e["code"] != code {
		a.t.Fatalf("%s: want userError %s, got %v", field, code, errs)
	}
	return e
}

func (a *api) query(q string, vars map[string]any) map[string]any {
	a.t.Helper()
	return a.srv.MustDo(a.t, a.tok, q, vars)
}

var inputType = map[string]string{
	"createLicense": "CreateLicenseInput", "updateLicense": "UpdateLicenseInput", "deleteLicense": "DeleteLicenseInput",
	"assignLicense": "AssignLicenseInput", "assignLicenses": "AssignLicensesInput",
	"updateAssignment": "UpdateAssignmentInput", "revokeAssignment": "RevokeAssignmentInput",
	"recordUsage": "RecordUsageInput", "reclaimUnusedSeats": "ReclaimUnusedSeatsInput",
	"createPerson": "CreatePersonInput", "updatePerson": "UpdatePersonInput", "deletePerson": "DeletePersonInput",
	"createGroup": "CreateGroupInput", "updateGroup": "UpdateGroupInput", "deleteGroup": "DeleteGroupInput",
	"addGroupMembers": "GroupMembersInput", "removeGroupMembers": "GroupMembersInput",
}

// license creates a license with seats seats (0: unlimited) and returns its id.
func (a *api) license(name string, seats int) string {
	a.t.Helper()
	in := map[string]any{"name": name, "vendor": "Acme"}
	if seats > 0 {
		in["totalSeats"] = seats
	}
	return a.ok("createLicense", "license { id }", in)["license"].(map[string]any)["id"].(string)
}

// person creates a person and returns its id.
func (a *api) person(email string) string {
	a.t.Helper()
	return a.ok("createPerson", "person { id }", map[string]any{"email": email, "name": email})["person"].(map[string]any)["id"].(string)
}

// group creates a group with members and returns its id.
func (a *api) group(name string, members ...string) string {
	a.t.Helper()
	in := map[string]any{"name": name}
	if len(members) > 0 {
		in["memberIds"] = members
	}
	return a.ok("createGroup", "group { id }", in)["group"].(map[string]any)["id"].(string)
}

// assign grants license to the assignee given as {"personId": …} etc.
func (a *api) assign(license string, assignee map[string]any) map[string]any {
	a.t.Helper()
	in := map[string]any{"licenseId": license}
	for k, v := range assignee {
		in[k] = v
	}
	return a.ok("assignLicense", "assignment { id status direct } created seats { total used pending waitlisted available }", in)
}

// seats reads a license's seats.
func (a *api) seats(license string) map[string]any {
	a.t.Helper()
	d := a.query(`query($id: ID!) { license(id: $id) { seats { total used pending waitlisted available } } }`, map[string]any{"id": license})
	return d["license"].(map[string]any)["seats"].(map[string]any)
}

func num(v any) int { return int(v.(float64)) }

// sqlInt runs a query returning one integer, as superuser.
func sqlInt(t *testing.T, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

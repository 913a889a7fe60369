package graph_test

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"seatgraph/internal/apitest"
	"seatgraph/internal/gid"
)

// snapshotTables are the tables holding a tenant's data, with an order
// that makes their fingerprint independent of the physical row order.
var snapshotTables = []struct{ table, order string }{
	{"licenses", "r.id"},
	{"people", "r.id"},
	{"groups", "r.id"},
	{"group_members", "r.group_id, r.person_id"},
	{"assignments", "r.id"},
	{"assignment_events", "r.id"},
	{"seat_holders", "r.license_id, r.holder"},
}

// snapshot fingerprints every row of tenant, read as the superuser: any
// write to the tenant's data, even of one column, changes it. The result
// names each table with its row count, so a failure shows where.
func snapshot(t testing.TB, db *sql.DB, tenant string) string {
	t.Helper()
	var out []string
	for _, s := range snapshotTables {
		var n int
		var sum string
		q := fmt.Sprintf(`SELECT count(*), coalesce(md5(string_agg(r::text, '|' ORDER BY %s)), '')
			FROM %s r WHERE r.tenant_id = $1`, s.order, s.table)
		if err := db.QueryRow(q, tenant).Scan(&n, &sum); err != nil {
			t.Fatalf("snapshot of %s: %v", s.table, err)
		}
		out = append(out, fmt.Sprintf("%s:%d:%.8s", s.table, n, sum))
	}
	return strings.Join(out, " ")
}

// tryMutation runs a mutation taking $input and returns the whole
// response, GraphQL errors included.
func tryMutation(a *api, field, selection string, input any) *apitest.Response {
	a.t.Helper()
	q := "mutation($input: " + inputType[field] + "!) { " + field + "(input: $input) { " + selection +
		" userErrors { field message code } } }"
	return a.srv.Do(a.t, a.tok, q, map[string]any{"input": input})
}

// userErrorsOf is the userErrors of field's payload in r; a GraphQL
// error fails the test.
func userErrorsOf(t testing.TB, r *apitest.Response, field string) []map[string]any {
	t.Helper()
	if len(r.Errors) > 0 || r.Status != 200 {
		t.Fatalf("%s: GraphQL error (%d): %s", field, r.Status, r.Raw)
	}
	var out []map[string]any
	for _, e := range jsonList(t, r.Data, field, "userErrors") {
		out = append(out, e.(map[string]any))
	}
	return out
}

// wantUserError checks that r's payload carries a userError with code
// (and, when field is not empty, that input path) and a message.
func wantUserError(t testing.TB, r *apitest.Response, mutation, code, field string) {
	t.Helper()
	errs := userErrorsOf(t, r, mutation)
	for _, e := range errs {
		if e["code"] == code && (field == "" || e["field"] == field) {
			if msg, _ := e["message"].(string); strings.TrimSpace(msg) == "" {
				t.Errorf("%s: userError %s at %v has no message", mutation, code, e["field"])
			}
			return
		}
	}
	t.Errorf("%s: want userError %s at %q, got %v", mutation, code, field, errs)
}

// wantGraphQLError checks that r failed as a whole with one of codes and
// that the mutation produced no data.
func wantGraphQLError(t testing.TB, r *apitest.Response, mutation string, codes ...string) {
	t.Helper()
	if len(r.Errors) == 0 {
		t.Errorf("%s: want a GraphQL error %v, got %s", mutation, codes, r.Raw)
		return
	}
	if got := r.Codes(); !slices.Contains(codes, got[0]) {
		t.Errorf("%s: want extensions.code in %v, got %v: %s", mutation, codes, got, r.Raw)
	}
	if r.Data[mutation] != nil {
		t.Errorf("%s: a refused request returned data %v", mutation, r.Data[mutation])
	}
}

// wantEmptyPayload checks that a refused mutation's payload carries
// nothing but its userErrors: no record (which was not written), no
// counts.
func wantEmptyPayload(t testing.TB, mutation string, payload map[string]any) {
	t.Helper()
	for k, v := range payload {
		if l, ok := v.([]any); k == "userErrors" || v == nil || v == 0.0 || v == false || (ok && len(l) == 0) {
			continue
		}
		t.Errorf("refused %s returned %s = %v", mutation, k, v)
	}
}

// mutationCase is one bad input of a mutation and the error it must get.
type mutationCase struct {
	name     string
	mutation string
	input    any
	code     string // userError code, or extensions.code when graphql is set
	field    string // userError field; empty: any
	graphql  bool
}

// unknownID is a well-formed TypeID of kind k that names no record.
func unknownID(k gid.Kind) string { return k.Format(gid.New()) }

// recordUpdatedAt reads the updatedAt of any record by its id.
func recordUpdatedAt(a *api, id string) string {
	a.t.Helper()
	d := a.query(`query($id: ID!) { node(id: $id) { ... on Record { updatedAt } } }`, map[string]any{"id": id})
	return jsonAt(a.t, d, "node", "updatedAt").(string)
}

func idAt(t testing.TB, p map[string]any, path ...any) string {
	t.Helper()
	return jsonAt(t, p, path...).(string)
}

// TestMutationBadInput sends every mutation bad input of every kind and
// checks that each gets a clear userError (or GraphQL error) and that the
// tenant's rows are exactly as they were.
func TestMutationBadInput(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("badinput")
	a := newAPI(t, srv, tenant)
	db := apitest.DB(t).SQL(t)

	lic := a.license("Figma", 3)
	full := a.license("AutoCAD", 1)
	open := a.license("Slack", 0)
	expired := idAt(t, a.ok("createLicense", "license { id }", map[string]any{"name": "Sketch",
		"startsAt": "2020-01-01T00:00:00Z", "expiresAt": "2021-01-01T00:00:00Z"}), "license", "id")
	ada := idAt(t, a.ok("createPerson", "person { id }", map[string]any{"email": "ada@example.com", "username": "ada"}), "person", "id")
	ben, cy := a.person("ben@example.com"), a.person("cy@example.com")
	gone := a.person("gone@example.com")
	a.ok("deletePerson", "person { id }", map[string]any{"id": gone})

	adaGrant := idAt(t, a.assign(lic, map[string]any{"personId": ada}), "assignment", "id")
	a.assign(full, map[string]any{"personId": ada})
	revoked := idAt(t, a.assign(lic, map[string]any{"email": "left@example.com"}), "assignment", "id")
	a.ok("revokeAssignment", "assignment { id }", map[string]any{"id": revoked, "reason": "left"})
	eng := a.group("Eng", ben)
	engGrant := idAt(t, a.assign(lic, map[string]any{"groupId": eng}), "assignment", "id")
	inherited := idAt(t, a.query(`query($g: ID!) { assignments(filter: {viaGroupId: $g}) { nodes { id } } }`,
		map[string]any{"g": eng}), "assignments", "nodes", 0, "id")
	fullTeam := a.group("Full team", ada)
	a.assign(full, map[string]any{"groupId": fullTeam})
	if s := a.seats(lic); num(s["used"]) != 2 {
		t.Fatalf("set-up: %v seats of Figma used, want 2 (ada, ben)", s["used"])
	}

	// Stale timestamps: the updatedAt a client read before someone else's update.
	staleLicense := recordUpdatedAt(a, lic)
	a.ok("updateLicense", "license { id }", map[string]any{"id": lic, "vendor": "Figma Inc."})
	staleGrant := recordUpdatedAt(a, adaGrant)
	a.ok("updateAssignment", "assignment { id }", map[string]any{"id": adaGrant, "metadata": map[string]any{"v": 1}})
	stalePerson := recordUpdatedAt(a, ada)
	a.ok("updatePerson", "person { id }", map[string]any{"id": ada, "name": "Ada Lovelace"})
	staleGroup := recordUpdatedAt(a, eng)
	a.ok("updateGroup", "group { id }", map[string]any{"id": eng, "description": "Engineering"})

	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	bigMeta := map[string]any{"blob": strings.Repeat("x", 17<<10)}
	long := strings.Repeat("n", 501)
	const malformed = "lic_not-a-typeid"
	assign := func(extra map[string]any) map[string]any {
		in := map[string]any{"licenseId": lic}
		for k, v := range extra {
			in[k] = v
		}
		return in
	}
	tooMany := make([]map[string]any, 101)
	for i := range tooMany {
		tooMany[i] = map[string]any{"licenseId": lic, "email": fmt.Sprintf("bulk%d@example.com", i)}
	}
	validationCodes := "GRAPHQL_VALIDATION_FAILED|BAD_USER_INPUT"

	cases := []mutationCase{
		// createLicense
		{"blank name", "createLicense", map[string]any{"name": "   "}, "INVALID", "input.name", false},
		{"empty name", "createLicense", map[string]any{"name": ""}, "INVALID", "input.name", false},
		{"name too long", "createLicense", map[string]any{"name": long}, "INVALID", "input.name", false},
		{"negative seats", "createLicense", map[string]any{"name": "X", "totalSeats": -1}, "INVALID", "input.totalSeats", false},
		{"huge seats", "createLicense", map[string]any{"name": "X", "totalSeats": 2_000_000_000}, "INVALID", "input.totalSeats", false},
		{"seats beyond 32 bits", "createLicense", map[string]any{"name": "X", "totalSeats": 1e12}, "INVALID", "input.totalSeats", false},
		{"seats as text", "createLicense", map[string]any{"name": "X", "totalSeats": "ten"}, validationCodes, "", true},
		{"no name", "createLicense", map[string]any{"vendor": "Acme"}, validationCodes, "", true},
		{"unknown input field", "createLicense", map[string]any{"name": "X", "seats": 3}, validationCodes, "", true},
		{"oversized metadata", "createLicense", map[string]any{"name": "X", "metadata": bigMeta}, "INVALID", "input.metadata", false},
		{"metadata not an object", "createLicense", map[string]any{"name": "X", "metadata": "text"}, validationCodes, "", true},
		{"ends before it starts", "createLicense", map[string]any{"name": "X", "startsAt": "2030-01-01T00:00:00Z",
			"expiresAt": "2029-01-01T00:00:00Z"}, "INVALID", "input.expiresAt", false},
		{"date not a date", "createLicense", map[string]any{"name": "X", "expiresAt": "next tuesday"}, validationCodes, "", true},
		{"sourceType SYSTEM", "createLicense", map[string]any{"name": "X", "sourceType": "SYSTEM"}, "INVALID", "input.sourceType", false},
		{"unknown sourceType", "createLicense", map[string]any{"name": "X", "sourceType": "ROBOT"}, validationCodes, "", true},
		{"blank source", "createLicense", map[string]any{"name": "X", "source": " "}, "INVALID", "input.source", false},

		// updateLicense
		{"unknown id", "updateLicense", map[string]any{"id": unknownID(gid.License), "name": "Y"}, "NOT_FOUND", "input.id", false},
		{"malformed id", "updateLicense", map[string]any{"id": malformed, "name": "Y"}, "INVALID", "input.id", false},
		{"person id", "updateLicense", map[string]any{"id": ada, "name": "Y"}, "INVALID", "input.id", false},
		{"blank name", "updateLicense", map[string]any{"id": lic, "name": " "}, "INVALID", "input.name", false},
		{"negative seats", "updateLicense", map[string]any{"id": lic, "totalSeats": -3}, "INVALID", "input.totalSeats", false},
		{"huge seats", "updateLicense", map[string]any{"id": lic, "totalSeats": 100_000_000}, "INVALID", "input.totalSeats", false},
		{"seats below use", "updateLicense", map[string]any{"id": lic, "totalSeats": 1}, "CONFLICT", "input.totalSeats", false},
		{"zero seats below use", "updateLicense", map[string]any{"id": full, "totalSeats": 0}, "CONFLICT", "input.totalSeats", false},
		{"seats and unlimited", "updateLicense", map[string]any{"id": lic, "totalSeats": 5, "unlimited": true}, "INVALID", "input.unlimited", false},
		{"oversized metadata", "updateLicense", map[string]any{"id": lic, "metadata": bigMeta}, "INVALID", "input.metadata", false},
		{"ends before it starts", "updateLicense", map[string]any{"id": expired, "expiresAt": "2019-01-01T00:00:00Z"}, "INVALID", "input.expiresAt", false},
		{"stale write", "updateLicense", map[string]any{"id": lic, "name": "Y", "expectedUpdatedAt": staleLicense}, "STALE_WRITE", "input.expectedUpdatedAt", false},

		// deleteLicense
		{"unknown id", "deleteLicense", map[string]any{"id": unknownID(gid.License)}, "NOT_FOUND", "input.id", false},
		{"malformed id", "deleteLicense", map[string]any{"id": "nope"}, "INVALID", "input.id", false},
		{"group id", "deleteLicense", map[string]any{"id": eng}, "INVALID", "input.id", false},
		{"live seats without force", "deleteLicense", map[string]any{"id": lic}, "CONFLICT", "input.force", false},
		{"stale write", "deleteLicense", map[string]any{"id": lic, "force": true, "expectedUpdatedAt": staleLicense}, "STALE_WRITE", "input.expectedUpdatedAt", false},

		// assignLicense
		{"unknown license", "assignLicense", map[string]any{"licenseId": unknownID(gid.License), "personId": cy}, "NOT_FOUND", "input.licenseId", false},
		{"malformed license", "assignLicense", map[string]any{"licenseId": malformed, "personId": cy}, "INVALID", "input.licenseId", false},
		{"assignment id as license", "assignLicense", map[string]any{"licenseId": adaGrant, "personId": cy}, "INVALID", "input.licenseId", false},
		{"unknown person", "assignLicense", assign(map[string]any{"personId": unknownID(gid.Person)}), "NOT_FOUND", "input.personId", false},
		{"deleted person", "assignLicense", assign(map[string]any{"personId": gone}), "NOT_FOUND", "input.personId", false},
		{"group id as person", "assignLicense", assign(map[string]any{"personId": eng}), "INVALID", "input.personId", false},
		{"unknown group", "assignLicense", assign(map[string]any{"groupId": unknownID(gid.Group)}), "NOT_FOUND", "input.groupId", false},
		{"person id as group", "assignLicense", assign(map[string]any{"groupId": cy}), "INVALID", "input.groupId", false},
		{"unknown username", "assignLicense", assign(map[string]any{"username": "nobody"}), "NOT_FOUND", "input.username", false},
		{"blank username", "assignLicense", assign(map[string]any{"username": " "}), "INVALID", "input.username", false},
		{"two assignees", "assignLicense", assign(map[string]any{"personId": cy, "email": "cy@example.com"}), "INVALID", "input.personId", false},
		{"three assignees", "assignLicense", assign(map[string]any{"personId": cy, "groupId": eng, "username": "ada"}), "INVALID", "input.personId", false},
		{"no assignee", "assignLicense", assign(nil), "INVALID", "input.personId", false},
		{"bad email", "assignLicense", assign(map[string]any{"email": "not-an-email"}), "INVALID", "input.email", false},
		{"email with a name", "assignLicense", assign(map[string]any{"email": "Cy <cy@example.com>"}), "INVALID", "input.email", false},
		{"past expiresAt", "assignLicense", assign(map[string]any{"personId": cy, "expiresAt": past}), "INVALID", "input.expiresAt", false},
		{"oversized metadata", "assignLicense", assign(map[string]any{"personId": cy, "metadata": bigMeta}), "INVALID", "input.metadata", false},
		{"redirectTo not a URL", "assignLicense", assign(map[string]any{"personId": cy, "redirectTo": "welcome page"}), "INVALID", "input.redirectTo", false},
		{"redirectTo javascript", "assignLicense", assign(map[string]any{"personId": cy, "redirectTo": "javascript:alert(1)"}), "INVALID", "input.redirectTo", false},
		{"redirectTo relative", "assignLicense", assign(map[string]any{"personId": cy, "redirectTo": "/welcome"}), "INVALID", "input.redirectTo", false},
		{"sourceType SYSTEM", "assignLicense", assign(map[string]any{"personId": cy, "sourceType": "SYSTEM"}), "INVALID", "input.sourceType", false},
		{"blank assetId", "assignLicense", assign(map[string]any{"personId": cy, "assetId": ""}), "INVALID", "input.assetId", false},
		{"expiresAt not a date", "assignLicense", assign(map[string]any{"personId": cy, "expiresAt": "soon"}), validationCodes, "", true},
		{"no seat free", "assignLicense", map[string]any{"licenseId": full, "personId": ben}, "SEAT_LIMIT_REACHED", "input.licenseId", false},
		{"no seat free for a group", "assignLicense", map[string]any{"licenseId": full, "groupId": eng}, "SEAT_LIMIT_REACHED", "input.licenseId", false},
		{"expired license", "assignLicense", map[string]any{"licenseId": expired, "personId": cy}, "LICENSE_EXPIRED", "input.licenseId", false},
		{"stale update of the live grant", "assignLicense", assign(map[string]any{"personId": ada, "active": false,
			"expectedUpdatedAt": staleGrant}), "STALE_WRITE", "input.expectedUpdatedAt", false},

		// assignLicenses
		{"101 items", "assignLicenses", map[string]any{"items": tooMany}, "INVALID", "input.items", false},
		{"one unknown person among good items", "assignLicenses", map[string]any{"items": []map[string]any{
			{"licenseId": open, "personId": cy}, {"licenseId": open, "personId": unknownID(gid.Person)},
			{"licenseId": open, "email": "new@example.com"}}}, "NOT_FOUND", "input.items[1].personId", false},
		{"one bad email among good items", "assignLicenses", map[string]any{"items": []map[string]any{
			{"licenseId": open, "personId": cy}, {"licenseId": lic, "groupId": fullTeam},
			{"licenseId": open, "email": "nope"}}}, "INVALID", "input.items[2].email", false},
		{"one expired license among good items", "assignLicenses", map[string]any{"items": []map[string]any{
			{"licenseId": open, "personId": cy}, {"licenseId": expired, "personId": cy}}}, "LICENSE_EXPIRED", "input.items[1].licenseId", false},
		{"good items exceeding the seats", "assignLicenses", map[string]any{"items": []map[string]any{
			assign(map[string]any{"personId": cy}), assign(map[string]any{"email": "new@example.com"})}}, "SEAT_LIMIT_REACHED", "", false},
		{"item without licenseId", "assignLicenses", map[string]any{"items": []map[string]any{{"personId": cy}}}, validationCodes, "", true},

		// updateAssignment
		{"unknown id", "updateAssignment", map[string]any{"id": unknownID(gid.Assignment), "active": false}, "NOT_FOUND", "input.id", false},
		{"malformed id", "updateAssignment", map[string]any{"id": "asg_?", "active": false}, "INVALID", "input.id", false},
		{"license id", "updateAssignment", map[string]any{"id": lic, "active": false}, "INVALID", "input.id", false},
		{"past expiresAt", "updateAssignment", map[string]any{"id": adaGrant, "expiresAt": past}, "INVALID", "input.expiresAt", false},
		{"oversized metadata", "updateAssignment", map[string]any{"id": adaGrant, "metadata": bigMeta}, "INVALID", "input.metadata", false},
		{"metadata not an object", "updateAssignment", map[string]any{"id": adaGrant, "metadata": []any{1, 2}}, validationCodes, "", true},
		{"bad redirectTo", "updateAssignment", map[string]any{"id": adaGrant, "redirectTo": "ftp://files.example.com"}, "INVALID", "input.redirectTo", false},
		{"revoked", "updateAssignment", map[string]any{"id": revoked, "active": false}, "ALREADY_REVOKED", "input.id", false},
		{"stale write", "updateAssignment", map[string]any{"id": adaGrant, "active": false, "expectedUpdatedAt": staleGrant}, "STALE_WRITE", "input.expectedUpdatedAt", false},
		{"active as text", "updateAssignment", map[string]any{"id": adaGrant, "active": "no"}, validationCodes, "", true},

		// revokeAssignment
		{"unknown id", "revokeAssignment", map[string]any{"id": unknownID(gid.Assignment)}, "NOT_FOUND", "input.id", false},
		{"malformed id", "revokeAssignment", map[string]any{"id": ""}, "INVALID", "input.id", false},
		{"person id", "revokeAssignment", map[string]any{"id": ada}, "INVALID", "input.id", false},
		{"already revoked", "revokeAssignment", map[string]any{"id": revoked}, "ALREADY_REVOKED", "input.id", false},
		{"inherited seat", "revokeAssignment", map[string]any{"id": inherited}, "INVALID", "input.id", false},
		{"reason too long", "revokeAssignment", map[string]any{"id": adaGrant, "reason": long}, "INVALID", "input.reason", false},
		{"stale write", "revokeAssignment", map[string]any{"id": adaGrant, "expectedUpdatedAt": staleGrant}, "STALE_WRITE", "input.expectedUpdatedAt", false},

		// recordUsage
		{"nothing named", "recordUsage", map[string]any{}, "INVALID", "input.assignmentId", false},
		{"assignment and license", "recordUsage", map[string]any{"assignmentId": adaGrant, "licenseId": lic}, "INVALID", "input.assignmentId", false},
		{"license without person", "recordUsage", map[string]any{"licenseId": lic}, "INVALID", "input.assignmentId", false},
		{"malformed assignment", "recordUsage", map[string]any{"assignmentId": "asg"}, "INVALID", "input.assignmentId", false},
		{"ids swapped", "recordUsage", map[string]any{"licenseId": ada, "personId": lic}, "INVALID", "input.licenseId", false},
		{"unknown assignment", "recordUsage", map[string]any{"assignmentId": unknownID(gid.Assignment)}, "NOT_FOUND", "", false},
		{"revoked assignment", "recordUsage", map[string]any{"assignmentId": revoked}, "NOT_FOUND", "", false},
		{"person without a seat", "recordUsage", map[string]any{"licenseId": lic, "personId": cy}, "NOT_FOUND", "", false},
		{"future usedAt", "recordUsage", map[string]any{"assignmentId": adaGrant, "usedAt": future}, "INVALID", "input.usedAt", false},
		{"usedAt not a date", "recordUsage", map[string]any{"assignmentId": adaGrant, "usedAt": 1700000000}, validationCodes, "", true},

		// reclaimUnusedSeats
		{"future unusedSince", "reclaimUnusedSeats", map[string]any{"unusedSince": future}, "INVALID", "input.unusedSince", false},
		{"malformed license", "reclaimUnusedSeats", map[string]any{"unusedSince": past, "licenseId": malformed}, "INVALID", "input.licenseId", false},
		{"person id as license", "reclaimUnusedSeats", map[string]any{"unusedSince": past, "licenseId": ada}, "INVALID", "input.licenseId", false},
		{"unknown license", "reclaimUnusedSeats", map[string]any{"unusedSince": past, "licenseId": unknownID(gid.License)}, "NOT_FOUND", "input.licenseId", false},
		{"reason too long", "reclaimUnusedSeats", map[string]any{"unusedSince": past, "reason": long}, "INVALID", "input.reason", false},
		{"no unusedSince", "reclaimUnusedSeats", map[string]any{"licenseId": lic}, validationCodes, "", true},

		// createPerson
		{"bad email", "createPerson", map[string]any{"email": "not-an-email"}, "INVALID", "input.email", false},
		{"empty email", "createPerson", map[string]any{"email": ""}, "INVALID", "input.email", false},
		{"email with a name", "createPerson", map[string]any{"email": "Dee <dee@example.com>"}, "INVALID", "input.email", false},
		{"email taken, other case", "createPerson", map[string]any{"email": "ADA@Example.com"}, "CONFLICT", "input.email", false},
		{"blank username", "createPerson", map[string]any{"email": "dee@example.com", "username": "  "}, "INVALID", "input.username", false},
		{"blank externalId", "createPerson", map[string]any{"email": "dee@example.com", "externalId": ""}, "INVALID", "input.externalId", false},
		{"name too long", "createPerson", map[string]any{"email": "dee@example.com", "name": long}, "INVALID", "input.name", false},
		{"sourceType SYSTEM", "createPerson", map[string]any{"email": "dee@example.com", "sourceType": "SYSTEM"}, "INVALID", "input.sourceType", false},

		// updatePerson
		{"unknown id", "updatePerson", map[string]any{"id": unknownID(gid.Person), "name": "Z"}, "NOT_FOUND", "input.id", false},
		{"malformed id", "updatePerson", map[string]any{"id": "per_", "name": "Z"}, "INVALID", "input.id", false},
		{"group id", "updatePerson", map[string]any{"id": eng, "name": "Z"}, "INVALID", "input.id", false},
		{"deleted person", "updatePerson", map[string]any{"id": gone, "name": "Z"}, "NOT_FOUND", "input.id", false},
		{"bad email", "updatePerson", map[string]any{"id": ada, "email": "ada-at-example.com"}, "INVALID", "input.email", false},
		{"email of another person", "updatePerson", map[string]any{"id": ada, "email": "BEN@example.com"}, "CONFLICT", "input.email", false},
		{"blank username", "updatePerson", map[string]any{"id": ada, "username": ""}, "INVALID", "input.username", false},
		{"stale write", "updatePerson", map[string]any{"id": ada, "name": "Z", "expectedUpdatedAt": stalePerson}, "STALE_WRITE", "input.expectedUpdatedAt", false},

		// deletePerson
		{"unknown id", "deletePerson", map[string]any{"id": unknownID(gid.Person)}, "NOT_FOUND", "input.id", false},
		{"malformed id", "deletePerson", map[string]any{"id": "ada"}, "INVALID", "input.id", false},
		{"license id", "deletePerson", map[string]any{"id": lic}, "INVALID", "input.id", false},
		{"already deleted", "deletePerson", map[string]any{"id": gone}, "NOT_FOUND", "input.id", false},
		{"stale write", "deletePerson", map[string]any{"id": ada, "expectedUpdatedAt": stalePerson}, "STALE_WRITE", "input.expectedUpdatedAt", false},

		// createGroup
		{"blank name", "createGroup", map[string]any{"name": "\t"}, "INVALID", "input.name", false},
		{"unknown member", "createGroup", map[string]any{"name": "G", "memberIds": []string{cy, unknownID(gid.Person)}}, "NOT_FOUND", "input.memberIds", false},
		{"deleted member", "createGroup", map[string]any{"name": "G", "memberIds": []string{gone}}, "NOT_FOUND", "input.memberIds", false},
		{"malformed member", "createGroup", map[string]any{"name": "G", "memberIds": []string{cy, "per_x"}}, "INVALID", "input.memberIds[1]", false},
		{"license id as member", "createGroup", map[string]any{"name": "G", "memberIds": []string{lic}}, "INVALID", "input.memberIds[0]", false},
		{"description too long", "createGroup", map[string]any{"name": "G", "description": long}, "INVALID", "input.description", false},
		{"source too long", "createGroup", map[string]any{"name": "G", "source": long}, "INVALID", "input.source", false},
		{"sourceType SYSTEM", "createGroup", map[string]any{"name": "G", "sourceType": "SYSTEM"}, "INVALID", "input.sourceType", false},

		// updateGroup
		{"unknown id", "updateGroup", map[string]any{"id": unknownID(gid.Group), "name": "G"}, "NOT_FOUND", "input.id", false},
		{"malformed id", "updateGroup", map[string]any{"id": "grp_1", "name": "G"}, "INVALID", "input.id", false},
		{"person id", "updateGroup", map[string]any{"id": ada, "name": "G"}, "INVALID", "input.id", false},
		{"blank name", "updateGroup", map[string]any{"id": eng, "name": ""}, "INVALID", "input.name", false},
		{"stale write", "updateGroup", map[string]any{"id": eng, "name": "G", "expectedUpdatedAt": staleGroup}, "STALE_WRITE", "input.expectedUpdatedAt", false},

		// deleteGroup
		{"unknown id", "deleteGroup", map[string]any{"id": unknownID(gid.Group)}, "NOT_FOUND", "input.id", false},
		{"malformed id", "deleteGroup", map[string]any{"id": "Eng"}, "INVALID", "input.id", false},
		{"assignment id", "deleteGroup", map[string]any{"id": engGrant}, "INVALID", "input.id", false},
		{"stale write", "deleteGroup", map[string]any{"id": eng, "expectedUpdatedAt": staleGroup}, "STALE_WRITE", "input.expectedUpdatedAt", false},

		// addGroupMembers
		{"unknown group", "addGroupMembers", map[string]any{"groupId": unknownID(gid.Group), "personIds": []string{cy}}, "NOT_FOUND", "input.groupId", false},
		{"malformed group", "addGroupMembers", map[string]any{"groupId": "grp", "personIds": []string{cy}}, "INVALID", "input.groupId", false},
		{"person id as group", "addGroupMembers", map[string]any{"groupId": cy, "personIds": []string{cy}}, "INVALID", "input.groupId", false},
		{"unknown person", "addGroupMembers", map[string]any{"groupId": eng, "personIds": []string{cy, unknownID(gid.Person)}}, "NOT_FOUND", "input.personIds", false},
		{"deleted person", "addGroupMembers", map[string]any{"groupId": eng, "personIds": []string{gone}}, "NOT_FOUND", "input.personIds", false},
		{"malformed person", "addGroupMembers", map[string]any{"groupId": eng, "personIds": []string{"per_?"}}, "INVALID", "input.personIds[0]", false},
		{"no people", "addGroupMembers", map[string]any{"groupId": eng, "personIds": []string{}}, "INVALID", "input.personIds", false},
		{"no seat free", "addGroupMembers", map[string]any{"groupId": fullTeam, "personIds": []string{cy}}, "SEAT_LIMIT_REACHED", "input.personIds", false},

		// removeGroupMembers
		{"unknown group", "removeGroupMembers", map[string]any{"groupId": unknownID(gid.Group), "personIds": []string{ben}}, "NOT_FOUND", "input.groupId", false},
		{"malformed group", "removeGroupMembers", map[string]any{"groupId": "", "personIds": []string{ben}}, "INVALID", "input.groupId", false},
		{"license id as person", "removeGroupMembers", map[string]any{"groupId": eng, "personIds": []string{lic}}, "INVALID", "input.personIds[0]", false},
		{"no people", "removeGroupMembers", map[string]any{"groupId": eng, "personIds": []string{}}, "INVALID", "input.personIds", false},
		{"people missing", "removeGroupMembers", map[string]any{"groupId": eng}, validationCodes, "", true},
	}

	for _, c := range cases {
		t.Run(c.mutation+"/"+c.name, func(t *testing.T) {
			before := snapshot(t, db, tenant)
			r := tryMutation(a, c.mutation, payloadFields[c.mutation], c.input)
			if c.graphql {
				wantGraphQLError(t, r, c.mutation, strings.Split(c.code, "|")...)
			} else {
				wantUserError(t, r, c.mutation, c.code, c.field)
				wantEmptyPayload(t, c.mutation, jsonAt(t, r.Data, c.mutation).(map[string]any))
			}
			if after := snapshot(t, db, tenant); after != before {
				t.Errorf("refused %s changed the database:\nbefore %s\nafter  %s", c.mutation, before, after)
			}
		})
	}

	// The snapshot sees writes: the same calls made good change it.
	before := snapshot(t, db, tenant)
	a.ok("assignLicenses", "assignments { id }", map[string]any{"items": []map[string]any{assign(map[string]any{"personId": cy})}})
	if snapshot(t, db, tenant) == before {
		t.Fatal("a successful assignLicenses left the snapshot unchanged: the snapshot cannot see writes")
	}
}

// dryRunFields are what a dry run must answer exactly like the real call,
// per mutation: no ids of rows it would create, no timestamps.
var dryRunFields = map[string]string{
	"assignLicense":      "created assignment { status direct active fulfilled assigneeType assigneeId licenseId email } seats { total used pending waitlisted available }",
	"assignLicenses":     "assignments { status direct assigneeType assigneeId licenseId email }",
	"revokeAssignment":   "assignment { id status revokeReason revokedBy } seats { total used pending waitlisted available }",
	"deleteLicense":      "license { id isDeleted deletedBy } revokedCount",
	"addGroupMembers":    "group { id name } changed",
	"reclaimUnusedSeats": "count reclaimed { id status revokeReason revokedBy }",
}

// Two mutations in one request: the second payload's nested reads see the
// first mutation's write and its own.
func TestMutationsInOneRequestReadFresh(t *testing.T) {
	srv := apitest.NewServer(t)
	a := newAPI(t, srv, apitest.Tenant("fresh"))
	lic := a.license("L", 5)
	p1, p2 := a.person("a@example.com"), a.person("b@example.com")
	d := a.query(`mutation($l: ID!, $a: ID!, $b: ID!) {
	  x: assignLicense(input: {licenseId: $l, personId: $a}) { assignment { license { seats { used } } } }
	  y: assignLicense(input: {licenseId: $l, personId: $b}) { seats { used } assignment { license { seats { used } } } }
	}`, map[string]any{"l": lic, "a": p1, "b": p2})
	y := d["y"].(map[string]any)
	nested := num(y["assignment"].(map[string]any)["license"].(map[string]any)["seats"].(map[string]any)["used"])
	if num(y["seats"].(map[string]any)["used"]) != 2 || nested != 2 {
		t.Fatalf("second mutation's payload = %v, want 2 seats used everywhere", y)
	}
}

// A request whose strings hold U+0000 is refused clearly, not failed inside.
func TestNULRefused(t *testing.T) {
	srv := apitest.NewServer(t)
	tok := apitest.Token(t, apitest.Tenant("nul"))
	r := srv.Do(t, tok, `query($s: String) { licenses(filter: {search: $s}) { totalCount } }`, map[string]any{"s": "a\x00b"})
	if r.Status != 400 || len(r.Errors) == 0 {
		t.Fatalf("NUL in a variable: %d %s", r.Status, r.Raw)
	}
	for _, q := range []string{`{ licenses(filter: {search: "a\u0000b"}) { totalCount } }`,
		`{ licenses(filter: {search: "a\u{0}b"}) { totalCount } }`,
		`mutation { createLicense(input: {name: "x\u0000"}) { license { id } } }`} {
		if r := srv.Do(t, tok, q, nil); r.Status != 200 || len(r.Codes()) != 1 || r.Codes()[0] != "BAD_USER_INPUT" {
			t.Errorf("NUL in a literal, %s: %d %s", q, r.Status, r.Raw)
		}
	}
	// An escaped backslash followed by "u0000" is no NUL.
	if r := srv.Do(t, tok, `{ licenses(filter: {search: "C:\\u0000dir"}) { totalCount } }`, nil); len(r.Errors) > 0 {
		t.Errorf("an escaped backslash was refused: %s", r.Raw)
	}
	if r := srv.Do(t, tok, `{ licenses { totalCount } }`, nil); r.Status != 200 {
		t.Fatalf("server stopped serving: %s", r.Raw)
	}
}

package scim_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"seatgraph/internal/apitest"
	"seatgraph/internal/gid"
)

// lockedBuffer collects the server's log lines from concurrent requests.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// recount counts a license's seats from its grants (SPEC §2 with rule 9:
// a deactivated grant neither holds a seat nor waits).
func recount(t *testing.T, tenant, license string) (used, waitlisted float64) {
	t.Helper()
	id, err := gid.License.Parse(license)
	if err != nil {
		t.Fatal(err)
	}
	err = apitest.DB(t).SQL(t).QueryRow(`
	WITH live AS (
	  SELECT * FROM assignments WHERE tenant_id = $1 AND license_id = $2 AND NOT is_deleted AND revoked_at IS NULL
	    AND expired_at IS NULL AND deactivated_at IS NULL AND (expires_at IS NULL OR expires_at > now()))
	SELECT (SELECT count(DISTINCT coalesce(person_id::text, lower(email))) FROM live WHERE group_id IS NULL AND waitlisted_at IS NULL),
	       (SELECT count(*) FROM live WHERE waitlisted_at IS NOT NULL)`, tenant, id).Scan(&used, &waitlisted)
	if err != nil {
		t.Fatal(err)
	}
	return used, waitlisted
}

// A group change (one member leaves, another joins) racing the joiner's
// deactivation: both lock the joiner and the group's license, and must
// take them in one order (person, then license). Every round both
// requests succeed, no statement meets a deadlock (which the store would
// hide by retrying), and the license's counters equal a recount.
func TestSCIMGroupChangeRacingDeactivation(t *testing.T) {
	logs := &lockedBuffer{}
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) {
		c.Log = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	tenant := apitest.Tenant("scim-lockorder")
	c := newClient(t, srv, tenant)
	user := func(name string) string {
		return str(c.do("POST", "/Users", `{`+userSchema+`, "userName": "`+name+`@corp.example"}`).want(t, http.StatusCreated).body, "id")
	}
	x, p := user("x"), user("p")
	grp := str(c.do("POST", "/Groups", `{`+groupSchema+`, "displayName": "Eng", "members": [{"value": "`+x+`"}]}`).
		want(t, http.StatusCreated).body, "id")
	d := graphQL(t, srv, tenant, `mutation { createLicense(input: {name: "IDE", totalSeats: 5}) { license { id } } }`, nil)
	lic := d["createLicense"].(map[string]any)["license"].(map[string]any)["id"].(string)
	for _, in := range []map[string]any{{"licenseId": lic, "groupId": grp}, {"licenseId": lic, "personId": p}} {
		d = graphQL(t, srv, tenant, `mutation($in: AssignLicenseInput!) { assignLicense(input: $in) { userErrors { code } } }`,
			map[string]any{"in": in})
		if errs := d["assignLicense"].(map[string]any)["userErrors"].([]any); len(errs) != 0 {
			t.Fatalf("assignLicense(%s): %v", in, errs)
		}
	}
	patch := func(ops string) string { return `{` + patchSchema + `, "Operations": [` + ops + `]}` }
	swap := patch(`{"op": "remove", "path": "members[value eq \"` + x + `\"]"}, {"op": "add", "path": "members", "value": [{"value": "` + p + `"}]}`)
	back := patch(`{"op": "remove", "path": "members[value eq \"` + p + `\"]"}, {"op": "add", "path": "members", "value": [{"value": "` + x + `"}]}`)
	active := func(b string) string { return patch(`{"op": "replace", "path": "active", "value": ` + b + `}`) }

	for round := range 15 {
		var wg sync.WaitGroup
		var group, deact reply
		wg.Add(2)
		go func() { defer wg.Done(); group = c.do("PATCH", "/Groups/"+grp, swap) }()
		go func() { defer wg.Done(); deact = c.do("PATCH", "/Users/"+p, active("false")) }()
		wg.Wait()
		if group.status != http.StatusNoContent || deact.status != http.StatusOK {
			t.Fatalf("round %d: group change %d %s, deactivation %d %s", round, group.status, group.raw, deact.status, deact.raw)
		}
		s := licenseSeats(t, srv, tenant, lic)
		if used, waitlisted := recount(t, tenant, lic); s["used"] != used || s["waitlisted"] != waitlisted {
			t.Fatalf("round %d: seats %v, recount used %v waitlisted %v", round, s, used, waitlisted)
		}
		c.do("PATCH", "/Groups/"+grp, back).want(t, http.StatusNoContent)
		c.do("PATCH", "/Users/"+p, active("true")).want(t, http.StatusOK)
	}
	if n := strings.Count(logs.String(), "deadlock detected"); n > 0 {
		t.Fatalf("%d statements met a deadlock (retried by the store)", n)
	}
	s := licenseSeats(t, srv, tenant, lic)
	if used, waitlisted := recount(t, tenant, lic); s["used"] != used || s["waitlisted"] != waitlisted || used != 2 {
		t.Fatalf("after the rounds: seats %v, recount used %v waitlisted %v (want x and p on seats)", s, used, waitlisted)
	}
}

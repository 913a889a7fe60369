package graph_test

import (
	"database/sql"
	"slices"
	"testing"

	"github.com/google/uuid"

	"seatgraph/internal/apitest"
	"seatgraph/internal/gid"
	"seatgraph/internal/seed"
	"seatgraph/models"
)

// seatRecount counts a license's seats from its assignments as SPEC §2
// defines them: a person (or an invited address) holding at least one
// PENDING, ACTIVE or SUSPENDED grant holds one seat, pending when none of
// those grants is taken up; waitlisted counts the assignments waiting; a
// DEACTIVATED grant (rule 9) neither holds a seat nor waits.
func seatRecount(t *testing.T, db *sql.DB, tenant string, license uuid.UUID) (used, pending, waitlisted int) {
	t.Helper()
	err := db.QueryRow(`
	WITH live AS (
	  SELECT a.* FROM assignments a JOIN licenses l ON l.tenant_id = a.tenant_id AND l.id = a.license_id
	  WHERE a.tenant_id = $1 AND a.license_id = $2 AND NOT a.is_deleted AND a.revoked_at IS NULL
	    AND a.expired_at IS NULL AND a.deactivated_at IS NULL AND (a.expires_at IS NULL OR a.expires_at > now())
	    AND (l.expires_at IS NULL OR l.expires_at > now())
	), holders AS (
	  SELECT coalesce(person_id::text, lower(email)) AS holder, bool_or(fulfilled) AS taken_up
	  FROM live WHERE group_id IS NULL AND waitlisted_at IS NULL GROUP BY 1
	)
	SELECT (SELECT count(*) FROM holders), (SELECT count(*) FROM holders WHERE NOT taken_up),
	       (SELECT count(*) FROM live WHERE waitlisted_at IS NOT NULL)`, tenant, license).Scan(&used, &pending, &waitlisted)
	if err != nil {
		t.Fatal(err)
	}
	return used, pending, waitlisted
}

// TestSeatsAndEntitlements checks that license.seats agrees with a recount
// of the assignments (a person counts once, however many grants reach
// them) and that Person.entitlements explains every grant.
func TestSeatsAndEntitlements(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("seats")
	f := apitest.NewFixture(t, srv.DB, tenant)
	db := apitest.DB(t).SQL(t)
	l := f.License("Seat Count", 10)
	p := f.People("s", 9)
	g1, g2 := f.Group("G1", p[0], p[1]), f.Group("G2", p[0], p[2])
	own := f.Assign(l, p[0])[0]
	f.AssignGroup(l, g1, p[0], p[1])
	f.AssignGroup(l, g2, p[0], p[2])
	f.Invite(l, "Pending@Example.com")
	set := func(a *models.Assignment, assignments string) {
		t.Helper()
		sqlExec(t, db, "UPDATE assignments SET "+assignments+" WHERE tenant_id = $1 AND id = $2", tenant, a.ID)
	}
	set(f.Assign(l, p[3])[0], "fulfilled = false")
	set(f.Assign(l, p[4])[0], "active = false")
	set(f.Assign(l, p[5])[0], "revoked_at = now(), revoked_by = 'x'")
	set(f.Assign(l, p[6])[0], "waitlisted_at = now()")
	set(f.Assign(l, p[7])[0], "expires_at = now() - interval '1 day', expired_at = now() - interval '1 day'")
	set(f.Assign(l, p[8])[0], "is_deleted = true, deleted_at = now(), deleted_by = 'x'")
	tok := apitest.Token(t, tenant)

	t.Run("seats", func(t *testing.T) {
		seats := checkSeats(t, srv, tok, db, tenant, l.ID)
		// p0 (three grants), p1, p2, the invitation, p3 (unfulfilled), p4
		// (suspended); of them the invitation and p3 are pending.
		want := map[string]any{"total": 10.0, "used": 6.0, "pending": 2.0, "waitlisted": 1.0, "available": 4.0}
		for k, v := range want {
			if seats[k] != v {
				t.Errorf("seats.%s = %v, want %v", k, seats[k], v)
			}
		}
	})

	t.Run("seats of the demo data", func(t *testing.T) {
		demo := apitest.Tenant("seatsdemo")
		if _, err := seed.Run(t.Context(), srv.DB, demo); err != nil {
			t.Fatal(err)
		}
		dtok := apitest.Token(t, demo)
		// An ended license's seats are freed by the expiry job, which
		// these tests do not run; compare the licenses still running.
		ids := sqlUUIDs(t, db, "SELECT id FROM licenses WHERE tenant_id = $1 AND (expires_at IS NULL OR expires_at > now())", demo)
		if len(ids) < 10 {
			t.Fatalf("only %d running licenses in the demo data", len(ids))
		}
		for _, id := range ids {
			checkSeats(t, srv, dtok, db, demo, id)
		}
	})

	t.Run("entitlements", func(t *testing.T) {
		const q = `query($p: ID!) { person(id: $p) { entitlements {
		  license { id } holdsSeat seatGrants status grants { id direct status viaGroup { id } } } } }`
		ents := func(p *models.Person) []any {
			return jsonList(t, srv.MustDo(t, tok, q, map[string]any{"p": gid.Person.Format(p.ID)}), "person", "entitlements")
		}
		e := ents(p[0])
		if len(e) != 1 {
			t.Fatalf("p0 has %d entitlements, want 1: %v", len(e), e)
		}
		if got := jsonAt(t, e[0], "license", "id"); got != gid.License.Format(l.ID) {
			t.Errorf("entitlement of license %v, want %s", got, gid.License.Format(l.ID))
		}
		if jsonAt(t, e[0], "holdsSeat") != true || jsonInt(t, e[0], "seatGrants") != 3 || jsonAt(t, e[0], "status") != "ACTIVE" {
			t.Errorf("p0's entitlement: %v, want holdsSeat, 3 seat grants, ACTIVE", e[0])
		}
		grants := jsonList(t, e[0], "grants")
		if len(grants) != 3 {
			t.Fatalf("p0 has %d grants, want 3: %v", len(grants), grants)
		}
		if jsonAt(t, grants[0], "id") != gid.Assignment.Format(own.ID) || jsonAt(t, grants[0], "direct") != true {
			t.Errorf("first grant %v, want the direct one %s", grants[0], gid.Assignment.Format(own.ID))
		}
		var via []string
		for _, g := range grants[1:] {
			if jsonAt(t, g, "direct") != false {
				t.Errorf("grant %v after the direct one is direct", g)
			}
			via = append(via, jsonAt(t, g, "viaGroup", "id").(string))
		}
		slices.Sort(via)
		wantVia := []string{gid.Group.Format(g1.ID), gid.Group.Format(g2.ID)}
		slices.Sort(wantVia)
		if !slices.Equal(via, wantVia) {
			t.Errorf("inherited grants come via %v, want %v", via, wantVia)
		}

		for i, want := range map[int]struct {
			holds  bool
			grants int
			status string
		}{
			1: {true, 1, "ACTIVE"}, 3: {true, 1, "PENDING"}, 4: {true, 1, "SUSPENDED"}, 6: {false, 0, "WAITLISTED"},
		} {
			e := ents(p[i])
			if len(e) != 1 {
				t.Errorf("p%d has %d entitlements, want 1", i, len(e))
				continue
			}
			if jsonAt(t, e[0], "holdsSeat") != want.holds || jsonInt(t, e[0], "seatGrants") != want.grants || jsonAt(t, e[0], "status") != want.status {
				t.Errorf("p%d's entitlement: %v, want %+v", i, e[0], want)
			}
		}
		// Revoked, expired and deleted grants entitle to nothing.
		for _, i := range []int{5, 7, 8} {
			if e := ents(p[i]); len(e) != 0 {
				t.Errorf("p%d has entitlements %v, want none", i, e)
			}
		}
	})
}

package economics_test

import (
	"math/big"
	"testing"
	"time"

	"seatgraph/internal/apitest"
	"seatgraph/internal/economics"
)

// TestRenewals: licenses renewing in the window come soonest first with
// their seats, cost at renewal and the suggested seat count (peak used
// over the last 90 days plus the waitlist); over-allocated licenses are
// listed whether they renew soon or not.
func TestRenewals(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("renew")
	c := newClient(t, srv, tenant)
	super := apitest.DB(t).SQL(t)
	day := dbToday(t, super)
	now := time.Now().UTC()
	in := func(d int) string { return now.Add(time.Duration(d) * 24 * time.Hour).Format(time.RFC3339) }

	// Soon: 10 seats at 20.00 EUR a month, 9 used (over-allocated at 90%),
	// a peak of 9 live, 7 in the snapshots of the last 90 days, 12 just
	// before them (not counted).
	soon := c.license(map[string]any{"name": "Soon", "totalSeats": 10, "renewsAt": in(20),
		"costPerSeat": map[string]any{"amount": "20.00", "currency": "EUR"}, "billingPeriod": "MONTHLY"})
	var people []string
	for _, e := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"} {
		people = append(people, c.person(e+"@r.example"))
	}
	for _, p := range people[:9] {
		c.assign(map[string]any{"licenseId": soon, "personId": p})
	}
	c.mutate("recordUsage", "RecordUsageInput", "updated", map[string]any{"licenseId": soon, "personId": people[0]})
	insertSnapshot(t, super, tenant, soon, day.AddDate(0, 0, -10), snap{total: 10, used: 7})
	insertSnapshot(t, super, tenant, soon, day.AddDate(0, 0, -91), snap{total: 10, used: 10})
	// Later: 3 seats, full, 2 waiting; renews after Soon; peak 12 within 90 days.
	later := c.license(map[string]any{"name": "Later", "totalSeats": 3, "renewsAt": in(60)})
	for _, p := range people[:5] {
		c.assign(map[string]any{"licenseId": later, "personId": p, "waitlist": true})
	}
	insertSnapshot(t, super, tenant, later, day.AddDate(0, 0, -30), snap{total: 20, used: 12})
	// Far: renews beyond the window, 1 of 10 used: not listed.
	far := c.license(map[string]any{"name": "Far", "totalSeats": 10, "renewsAt": in(200)})
	c.assign(map[string]any{"licenseId": far, "personId": people[0]})
	// Busy: no renewal date, waitlist: only over-allocated.
	busy := c.license(map[string]any{"name": "Busy", "totalSeats": 1})
	c.assign(map[string]any{"licenseId": busy, "personId": people[0]})
	c.assign(map[string]any{"licenseId": busy, "personId": people[1], "waitlist": true})
	// Past: renewed yesterday: not in the window.
	c.license(map[string]any{"name": "Past", "totalSeats": 10, "renewsAt": in(-1)})

	const sel = `license { name } renewsAt seatsBought seatsUsed seatsActive waitlisted peakUsed suggestedSeats overAllocated
		costAtRenewal { amount currency } suggestedCost { amount currency }`
	d := c.do(`query($w: String!) { renewals(within: $w) { renewals { `+sel+` } overAllocated { `+sel+` } } }`, map[string]any{"w": "P90D"})
	rs := at(d, "renewals", "renewals").([]any)
	if len(rs) != 2 || at(rs[0], "license", "name") != "Soon" || at(rs[1], "license", "name") != "Later" {
		t.Fatalf("renewals = %v, want Soon then Later", rs)
	}
	type figures struct{ bought, used, active, waitlisted, peak, suggested int }
	fig := func(v any) figures {
		m := v.(map[string]any)
		return figures{num(m["seatsBought"]), num(m["seatsUsed"]), num(m["seatsActive"]), num(m["waitlisted"]),
			num(m["peakUsed"]), num(m["suggestedSeats"])}
	}
	if got, want := fig(rs[0]), (figures{10, 9, 1, 0, 9, 9 + 0}); got != want {
		t.Errorf("Soon: %+v, want %+v", got, want)
	}
	if got, want := fig(rs[1]), (figures{3, 3, 0, 2, 12, 12 + 2}); got != want {
		t.Errorf("Later: %+v, want %+v", got, want)
	}
	if cost := at(rs[0], "costAtRenewal").(map[string]any); !sameAmount(t, cost["amount"], new(big.Rat).Mul(big.NewRat(10, 1), dec(t, "20.00"))) ||
		cost["currency"] != "EUR" {
		t.Errorf("Soon costAtRenewal = %v, want 200 EUR", cost)
	}
	if cost := at(rs[0], "suggestedCost").(map[string]any); !sameAmount(t, cost["amount"], new(big.Rat).Mul(big.NewRat(9, 1), dec(t, "20.00"))) {
		t.Errorf("Soon suggestedCost = %v, want 180", cost)
	}
	if at(rs[1], "costAtRenewal") != nil || at(rs[0], "overAllocated") != true || at(rs[1], "overAllocated") != true {
		t.Errorf("Later without a cost / over-allocation flags: %v", rs)
	}
	over := at(d, "renewals", "overAllocated").([]any)
	var names []any
	for _, o := range over {
		names = append(names, at(o, "license", "name"))
	}
	if len(names) != 3 || names[0] != "Busy" || names[1] != "Later" || names[2] != "Soon" {
		t.Errorf("overAllocated = %v, want Busy, Later, Soon", names)
	}

	// A longer window reaches Far; a bad one is refused.
	d = c.do(`{ renewals(within: "P1Y") { renewals { license { name } } } }`, nil)
	if n := len(at(d, "renewals", "renewals").([]any)); n != 3 {
		t.Errorf("within a year: %d renewals, want 3", n)
	}
	for _, w := range []string{"90", "P", "PT1H", "P-1D", "P6Y", "p90d", "P90D "} {
		resp := srv.Do(t, c.tok, `query($w: String!) { renewals(within: $w) { renewals { renewsAt } } }`, map[string]any{"w": w})
		if codes := resp.Codes(); len(codes) != 1 || codes[0] != "BAD_USER_INPUT" {
			t.Errorf("renewals(within: %q): %s", w, resp.Raw)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for s, want := range map[string][4]int{"P90D": {0, 0, 0, 90}, "P1Y": {1, 0, 0, 0}, "P1Y2M3W4D": {1, 2, 3, 4}, "P2W": {0, 0, 2, 0}} {
		y, m, w, d, err := economics.ParseDuration(s)
		if err != nil || [4]int{y, m, w, d} != want {
			t.Errorf("ParseDuration(%q) = %d %d %d %d %v, want %v", s, y, m, w, d, err, want)
		}
	}
}

package economics_test

import (
	"math/big"
	"testing"
	"time"

	"seatgraph/internal/apitest"
)

// TestUsageAndSpend: a license's holders split into active, inactive and
// never used by their last recorded use, wastedSpend is what the idle
// holders' seats cost, and spendSummary adds them up per currency and
// vendor, per year, with figures worked out here from the data written.
func TestUsageAndSpend(t *testing.T) {
	srv := apitest.NewServer(t)
	c := newClient(t, srv, apitest.Tenant("usage"))
	now := time.Now().UTC()

	design := c.license(map[string]any{"name": "Design", "vendor": "Figma", "totalSeats": 10,
		"costPerSeat": map[string]any{"amount": "12.50", "currency": "USD"}, "billingPeriod": "MONTHLY"})
	var people []string
	for _, e := range []string{"a@x.example", "b@x.example", "c@x.example", "d@x.example", "e@x.example"} {
		p := c.person(e)
		people = append(people, p)
		c.assign(map[string]any{"licenseId": design, "personId": p})
	}
	// A group grant reaching a holder who already holds directly: still one holder.
	grp := c.mutate("createGroup", "CreateGroupInput", "group { id }", map[string]any{"name": "Team",
		"memberIds": []string{people[0]}})["group"].(map[string]any)["id"].(string)
	c.assign(map[string]any{"licenseId": design, "groupId": grp})
	// An invitation holds a seat and has never been used.
	c.assign(map[string]any{"licenseId": design, "email": "new@x.example"})
	use := func(person string, ago time.Duration) {
		c.mutate("recordUsage", "RecordUsageInput", "updated", map[string]any{"licenseId": design, "personId": person,
			"usedAt": now.Add(-ago).Format(time.RFC3339)})
	}
	use(people[0], time.Hour)        // active
	use(people[1], 10*24*time.Hour)  // active
	use(people[2], 40*24*time.Hour)  // inactive at 30 days, active at 60
	use(people[3], 100*24*time.Hour) // inactive at 30 and 60
	// people[4] and the invitation: never used.

	type want struct{ days, holders, active, inactive, never int }
	for _, w := range []want{{30, 6, 2, 2, 2}, {60, 6, 3, 1, 2}, {1, 6, 1, 3, 2}} {
		d := c.do(`query($id: ID!, $d: Int) { license(id: $id) { seats { used }
			usage(inactiveDays: $d) { inactiveDays holders active inactive neverUsed spend { amount currency } wastedSpend { amount currency } } } }`,
			map[string]any{"id": design, "d": w.days})
		u := at(d, "license", "usage").(map[string]any)
		got := want{num(u["inactiveDays"]), num(u["holders"]), num(u["active"]), num(u["inactive"]), num(u["neverUsed"])}
		if got != w {
			t.Errorf("usage(inactiveDays: %d) = %+v, want %+v", w.days, got, w)
		}
		if used := num(at(d, "license", "seats", "used")); used != w.holders {
			t.Errorf("seats.used = %d, usage.holders = %d", used, w.holders)
		}
		wasted := new(big.Rat).Mul(big.NewRat(int64(w.inactive+w.never), 1), dec(t, "12.50"))
		if ws := u["wastedSpend"].(map[string]any); !sameAmount(t, ws["amount"], wasted) || ws["currency"] != "USD" {
			t.Errorf("inactiveDays %d: wastedSpend = %v, want %s USD", w.days, ws, wasted.FloatString(2))
		}
		if sp := u["spend"].(map[string]any); !sameAmount(t, sp["amount"], dec(t, "125")) {
			t.Errorf("spend = %v, want 10 × 12.50 = 125", sp)
		}
	}

	// A second vendor in another currency, paid yearly, and a one-time purchase.
	cad := c.license(map[string]any{"name": "CAD", "vendor": "Autodesk", "totalSeats": 3,
		"costPerSeat": map[string]any{"amount": "1999.99", "currency": "EUR"}, "billingPeriod": "ANNUAL"})
	c.assign(map[string]any{"licenseId": cad, "personId": people[0]})
	c.license(map[string]any{"name": "Fonts", "vendor": "Figma", "totalSeats": 4,
		"costPerSeat": map[string]any{"amount": "0.333333", "currency": "USD"}, "billingPeriod": "ONE_TIME"})
	// No cost: not counted. Expired: not counted.
	c.license(map[string]any{"name": "Free", "vendor": "Figma", "totalSeats": 100})
	c.license(map[string]any{"name": "Old", "vendor": "Figma", "totalSeats": 5, "expiresAt": now.Add(-time.Hour).Format(time.RFC3339),
		"costPerSeat": map[string]any{"amount": "9", "currency": "USD"}, "billingPeriod": "ANNUAL"})

	d := c.do(`{ spendSummary { inactiveDays annual { amount currency } wastedAnnual { amount currency } oneTime { amount currency }
		byVendor { vendor annual { amount currency } wastedAnnual { amount currency } oneTime { amount currency } } } }`, nil)
	s := d["spendSummary"].(map[string]any)
	r := func(s string) *big.Rat { return dec(t, s) }
	mul := func(a, b *big.Rat) *big.Rat { return new(big.Rat).Mul(a, b) }
	designYear := mul(r("125"), r("12"))                          // 10 seats × 12.50 × 12 months
	designWasted := mul(mul(r("4"), r("12.50")), r("12"))         // 4 idle holders at 30 days
	cadYear, cadWasted := mul(r("3"), r("1999.99")), r("1999.99") // 3 seats bought; its one holder never used it
	fonts := mul(r("4"), r("0.333333"))
	check := func(where string, got any, want map[string]*big.Rat) {
		t.Helper()
		list := got.([]any)
		if len(list) != len(want) {
			t.Errorf("%s = %v, want %d currencies", where, list, len(want))
			return
		}
		for _, m := range list {
			m := m.(map[string]any)
			w, ok := want[m["currency"].(string)]
			if !ok || !sameAmount(t, m["amount"], w) {
				t.Errorf("%s: %v, want %v", where, m, w)
			}
		}
	}
	check("annual", s["annual"], map[string]*big.Rat{"USD": designYear, "EUR": cadYear})
	check("wastedAnnual", s["wastedAnnual"], map[string]*big.Rat{"USD": designWasted, "EUR": cadWasted})
	check("oneTime", s["oneTime"], map[string]*big.Rat{"USD": fonts})
	vendors := s["byVendor"].([]any)
	if len(vendors) != 2 || at(vendors[0], "vendor") != "Autodesk" || at(vendors[1], "vendor") != "Figma" {
		t.Fatalf("byVendor = %v, want Autodesk then Figma", vendors)
	}
	check("Autodesk annual", at(vendors[0], "annual"), map[string]*big.Rat{"EUR": cadYear})
	check("Autodesk oneTime", at(vendors[0], "oneTime"), map[string]*big.Rat{})
	check("Figma annual", at(vendors[1], "annual"), map[string]*big.Rat{"USD": designYear})
	check("Figma wastedAnnual", at(vendors[1], "wastedAnnual"), map[string]*big.Rat{"USD": designWasted})
	check("Figma oneTime", at(vendors[1], "oneTime"), map[string]*big.Rat{"USD": fonts})

	// Bad windows are refused.
	for _, days := range []int{0, -1, 3661} {
		resp := srv.Do(t, c.tok, `query($d: Int) { spendSummary(inactiveDays: $d) { inactiveDays } }`, map[string]any{"d": days})
		if codes := resp.Codes(); len(codes) != 1 || codes[0] != "BAD_USER_INPUT" {
			t.Errorf("spendSummary(inactiveDays: %d): %s", days, resp.Raw)
		}
	}
}

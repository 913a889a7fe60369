package economics_test

import (
	"testing"
	"time"

	"seatgraph/internal/apitest"
)

// TestLicenseTerms: costPerSeat keeps the exact decimal given, in an ISO
// 4217 currency; billingPeriod, renewsAt and lowSeatsThreshold are stored
// and updated; bad terms are refused with nothing written; renewsBefore
// filters and RENEWS orders.
func TestLicenseTerms(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("terms")
	c := newClient(t, srv, tenant)
	super := apitest.DB(t).SQL(t)
	renews := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	const sel = "license { id costPerSeat { amount currency } billingPeriod renewsAt lowSeatsThreshold }"

	p := c.mutate("createLicense", "CreateLicenseInput", sel, map[string]any{"name": "Exact", "totalSeats": 5,
		"costPerSeat": map[string]any{"amount": "12.50", "currency": "USD"}, "billingPeriod": "ANNUAL",
		"renewsAt": renews.Format(time.RFC3339), "lowSeatsThreshold": 2})
	l := p["license"].(map[string]any)
	if at(l, "costPerSeat", "amount") != "12.50" || at(l, "costPerSeat", "currency") != "USD" || l["billingPeriod"] != "ANNUAL" ||
		l["renewsAt"] != "2027-03-01T00:00:00Z" || num(l["lowSeatsThreshold"]) != 2 {
		t.Errorf("created terms: %v", l)
	}
	id := l["id"].(string)
	// A price too fine for a float64 to hold survives the round trip.
	p = c.mutate("updateLicense", "UpdateLicenseInput", sel, map[string]any{"id": id,
		"costPerSeat": map[string]any{"amount": "99999999999999.999999", "currency": "JPY"}, "billingPeriod": "MONTHLY"})
	if got := at(p, "license", "costPerSeat"); at(got, "amount") != "99999999999999.999999" || at(got, "currency") != "JPY" {
		t.Errorf("updated cost: %v", got)
	}
	var stored string
	if err := super.QueryRow("SELECT cost_per_seat::text || ' ' || cost_currency FROM licenses WHERE tenant_id = $1", tenant).Scan(&stored); err != nil ||
		stored != "99999999999999.999999 JPY" {
		t.Errorf("stored %q (%v)", stored, err)
	}

	count := func() int {
		var n int
		if err := super.QueryRow("SELECT count(*) FROM licenses WHERE tenant_id = $1", tenant).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	for _, bad := range []struct {
		in    map[string]any
		field string
	}{
		{map[string]any{"costPerSeat": map[string]any{"amount": "1e3", "currency": "USD"}, "billingPeriod": "ANNUAL"}, "input.costPerSeat.amount"},
		{map[string]any{"costPerSeat": map[string]any{"amount": "-1", "currency": "USD"}, "billingPeriod": "ANNUAL"}, "input.costPerSeat.amount"},
		{map[string]any{"costPerSeat": map[string]any{"amount": "0.1234567", "currency": "USD"}, "billingPeriod": "ANNUAL"}, "input.costPerSeat.amount"},
		{map[string]any{"costPerSeat": map[string]any{"amount": "1", "currency": "usd"}, "billingPeriod": "ANNUAL"}, "input.costPerSeat.currency"},
		{map[string]any{"costPerSeat": map[string]any{"amount": "1", "currency": "ABC"}, "billingPeriod": "ANNUAL"}, "input.costPerSeat.currency"},
		{map[string]any{"costPerSeat": map[string]any{"amount": "1", "currency": "EUR"}}, "input.billingPeriod"},
		{map[string]any{"lowSeatsThreshold": -1}, "input.lowSeatsThreshold"},
	} {
		in := map[string]any{"name": "Bad"}
		for k, v := range bad.in {
			in[k] = v
		}
		errs := c.userErrors("createLicense", "CreateLicenseInput", in)
		if e := errs[0].(map[string]any); e["code"] != "INVALID" || e["field"] != bad.field {
			t.Errorf("createLicense(%v): %v, want INVALID on %s", bad.in, errs, bad.field)
		}
		in["id"] = id
		delete(in, "name")
		if _, ok := bad.in["costPerSeat"]; ok && bad.field == "input.billingPeriod" {
			continue // the license already has a period: allowed on update
		}
		errs = c.userErrors("updateLicense", "UpdateLicenseInput", in)
		if e := errs[0].(map[string]any); e["code"] != "INVALID" || e["field"] != bad.field {
			t.Errorf("updateLicense(%v): %v, want INVALID on %s", bad.in, errs, bad.field)
		}
	}
	if count() != before {
		t.Errorf("refused creates wrote licenses")
	}
	if d := c.do(`query($id: ID!) { license(id: $id) { costPerSeat { amount } } }`, map[string]any{"id": id}); at(d, "license", "costPerSeat", "amount") != "99999999999999.999999" {
		t.Errorf("a refused update changed the cost: %v", d)
	}
	// A cost without a period is refused by the database too.
	if _, err := super.Exec("UPDATE licenses SET billing_period = NULL WHERE tenant_id = $1", tenant); err == nil {
		t.Error("the database accepted a cost without a billing period")
	}

	// renewsBefore and RENEWS.
	c.license(map[string]any{"name": "Sooner", "renewsAt": renews.AddDate(0, -1, 0).Format(time.RFC3339)})
	c.license(map[string]any{"name": "Never"})
	d := c.do(`query($b: DateTime) { licenses(filter: {renewsBefore: $b}, orderBy: {field: RENEWS}) { nodes { name } } }`,
		map[string]any{"b": renews.AddDate(0, 0, 1).Format(time.RFC3339)})
	if got := at(d, "licenses", "nodes").([]any); len(got) != 2 || at(got[0], "name") != "Sooner" || at(got[1], "name") != "Exact" {
		t.Errorf("renewsBefore, by RENEWS: %v", got)
	}
	d = c.do(`{ licenses(orderBy: {field: RENEWS, direction: DESC}, first: 2) { nodes { name } pageInfo { endCursor } } }`, nil)
	if got := at(d, "licenses", "nodes").([]any); at(got[0], "name") != "Never" || at(got[1], "name") != "Exact" {
		t.Errorf("RENEWS DESC: %v (no renewal date sorts as the latest)", got)
	}
	cursor := at(d, "licenses", "pageInfo", "endCursor")
	d = c.do(`query($a: String) { licenses(orderBy: {field: RENEWS, direction: DESC}, after: $a) { nodes { name } } }`, map[string]any{"a": cursor})
	if got := at(d, "licenses", "nodes").([]any); len(got) != 1 || at(got[0], "name") != "Sooner" {
		t.Errorf("RENEWS DESC, second page: %v", got)
	}
}

// TestCostKeepsItsDecimals: a cost reads back as the decimal that was
// given, zero amounts with their decimals included ("0.00", not "0"), by
// id and in a list, as the mutation's payload showed it.
func TestCostKeepsItsDecimals(t *testing.T) {
	srv := apitest.NewServer(t)
	c := newClient(t, srv, apitest.Tenant("termsscale"))
	for _, amount := range []string{"0.00", "0.000000", "0", "100.00", "12.50", "0.10"} {
		p := c.mutate("createLicense", "CreateLicenseInput", "license { id costPerSeat { amount } }", map[string]any{"name": "Cost " + amount + " end",
			"costPerSeat": map[string]any{"amount": amount, "currency": "USD"}, "billingPeriod": "MONTHLY"})
		if got := at(p, "license", "costPerSeat", "amount"); got != amount {
			t.Errorf("createLicense(%s): payload amount %v", amount, got)
		}
		id := at(p, "license", "id")
		d := c.do(`query($id: ID!) { license(id: $id) { costPerSeat { amount } } }`, map[string]any{"id": id})
		if got := at(d, "license", "costPerSeat", "amount"); got != amount {
			t.Errorf("license(id) of a cost of %s: amount %v", amount, got)
		}
		d = c.do(`query($n: String) { licenses(filter: {search: $n}) { nodes { costPerSeat { amount } } } }`, map[string]any{"n": "Cost " + amount + " end"})
		if nodes := at(d, "licenses", "nodes").([]any); len(nodes) != 1 || at(nodes[0], "costPerSeat", "amount") != amount {
			t.Errorf("licenses of a cost of %s: %v", amount, nodes)
		}
	}
}

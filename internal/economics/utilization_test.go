package economics_test

import (
	"fmt"
	"testing"
	"time"

	"seatgraph/internal/apitest"
)

// TestUtilization: License.utilization and the tenant-wide utilization
// read the daily snapshots plus today's live counters, in day, ISO week and
// month buckets; each bucket shows its last day and the peak of its days.
// The expected buckets are folded here by other means (time.ISOWeek,
// year-month keys) from the rows the test wrote.
func TestUtilization(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("util")
	c := newClient(t, srv, tenant)
	super := apitest.DB(t).SQL(t)
	day := dbToday(t, super)

	one := c.license(map[string]any{"name": "One", "totalSeats": 10})
	two := c.license(map[string]any{"name": "Two"}) // unlimited
	for i, e := range []string{"a@u.example", "b@u.example", "c@u.example"} {
		p := c.person(e)
		c.assign(map[string]any{"licenseId": one, "personId": p})
		if i == 0 {
			c.assign(map[string]any{"licenseId": two, "personId": p})
			c.mutate("recordUsage", "RecordUsageInput", "updated", map[string]any{"licenseId": one, "personId": p})
		}
	}
	// 45 days of history for One, 10 for Two; today is live.
	type row struct {
		day time.Time
		s   snap
	}
	var rowsOne, rowsTwo []row
	for i := 45; i >= 1; i-- {
		d := day.AddDate(0, 0, -i)
		s := snap{total: 10, used: (i*7)%10 + 0, pending: i % 2, waitlisted: i % 3, active: i % 4}
		insertSnapshot(t, super, tenant, one, d, s)
		rowsOne = append(rowsOne, row{d, s})
		if i <= 10 {
			s2 := snap{total: -1, used: i, pending: 0, waitlisted: 0, active: 1}
			insertSnapshot(t, super, tenant, two, d, s2)
			rowsTwo = append(rowsTwo, row{d, s2})
		}
	}
	rowsOne = append(rowsOne, row{day, snap{total: 10, used: 3, active: 1}})
	rowsTwo = append(rowsTwo, row{day, snap{total: -1, used: 1, active: 0}}) // its holder used only One

	type bucket struct{ total, used, pending, waitlisted, active, peak, days int }
	key := func(d time.Time, interval string) string {
		switch interval {
		case "WEEK":
			y, w := d.ISOWeek()
			return fmt.Sprintf("%d-W%02d", y, w)
		case "MONTH":
			return d.Format("2006-01")
		}
		return d.Format(time.DateOnly)
	}
	expect := func(rows []row, from time.Time, interval string) []bucket {
		var out []bucket
		var keys []string
		for _, r := range rows {
			if r.day.Before(from) {
				continue
			}
			k := key(r.day, interval)
			if len(keys) == 0 || keys[len(keys)-1] != k {
				keys = append(keys, k)
				out = append(out, bucket{})
			}
			b := &out[len(out)-1]
			b.total, b.used, b.pending, b.waitlisted, b.active = r.s.total, r.s.used, r.s.pending, r.s.waitlisted, r.s.active
			b.peak = max(b.peak, r.s.used)
			b.days++
		}
		return out
	}
	read := func(list []any) []bucket {
		var out []bucket
		for _, v := range list {
			m := v.(map[string]any)
			b := bucket{total: -1, used: num(m["used"]), pending: num(m["pending"]), waitlisted: num(m["waitlisted"]),
				active: num(m["active"]), peak: num(m["peakUsed"]), days: num(m["days"])}
			if m["total"] != nil {
				b.total = num(m["total"])
			}
			out = append(out, b)
		}
		return out
	}
	const fields = "start end total used pending waitlisted active peakUsed days"
	from := day.AddDate(0, 0, -40)
	for _, interval := range []string{"DAY", "WEEK", "MONTH"} {
		d := c.do(`query($id: ID!, $from: DateTime!, $i: UtilizationInterval) { license(id: $id) { utilization(from: $from, interval: $i) { `+fields+` } } }`,
			map[string]any{"id": one, "from": from.Format(time.RFC3339), "i": interval})
		got, want := read(at(d, "license", "utilization").([]any)), expect(rowsOne, from, interval)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s buckets:\n got %v\nwant %v", interval, got, want)
		}
		// Each bucket starts on its calendar boundary, and ends where the next starts.
		list := at(d, "license", "utilization").([]any)
		for i, v := range list {
			start, _ := time.Parse(time.RFC3339, at(v, "start").(string))
			end, _ := time.Parse(time.RFC3339, at(v, "end").(string))
			ok := start.Hour() == 0 && (interval != "WEEK" || start.Weekday() == time.Monday) && (interval != "MONTH" || start.Day() == 1)
			if !ok || (i > 0 && interval == "DAY" && !start.Equal(day.AddDate(0, 0, -40+i))) || !end.After(start) {
				t.Errorf("%s bucket %d: %s .. %s", interval, i, start, end)
			}
		}
	}

	// A range ending yesterday has no live day.
	d := c.do(`query($id: ID!, $from: DateTime!, $to: DateTime) { license(id: $id) { utilization(from: $from, to: $to) { `+fields+` } } }`,
		map[string]any{"id": one, "from": day.AddDate(0, 0, -2).Format(time.RFC3339), "to": day.AddDate(0, 0, -1).Format(time.RFC3339)})
	if got := read(at(d, "license", "utilization").([]any)); len(got) != 2 || got[1].used != rowsOne[len(rowsOne)-2].s.used {
		t.Errorf("two past days: %v", got)
	}

	// Tenant-wide: per day, the sums over both licenses (total: the limited one's).
	var sums []row
	for _, r := range rowsOne {
		s := r.s
		for _, r2 := range rowsTwo {
			if r2.day.Equal(r.day) {
				s.used += r2.s.used
				s.pending += r2.s.pending
				s.waitlisted += r2.s.waitlisted
				s.active += r2.s.active
			}
		}
		sums = append(sums, row{r.day, s})
	}
	for _, interval := range []string{"DAY", "WEEK"} {
		d = c.do(`query($from: DateTime!, $i: UtilizationInterval) { utilization(from: $from, interval: $i) { `+fields+` } }`,
			map[string]any{"from": from.Format(time.RFC3339), "i": interval})
		if got, want := read(d["utilization"].([]any)), expect(sums, from, interval); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("tenant %s buckets:\n got %v\nwant %v", interval, got, want)
		}
	}

	// Another tenant sees none of it.
	other := newClient(t, srv, apitest.Tenant("util-other"))
	if d := other.do(`query($from: DateTime!) { utilization(from: $from) { used } }`,
		map[string]any{"from": from.Format(time.RFC3339)}); len(d["utilization"].([]any)) != 0 {
		t.Errorf("another tenant's utilization: %v", d)
	}
	if d := other.do(`query($id: ID!) { license(id: $id) { id } }`, map[string]any{"id": one}); d["license"] != nil {
		t.Errorf("another tenant reads the license: %v", d)
	}

	// Bad ranges are refused; so is a caller without licenses:read.
	for _, vars := range []map[string]any{
		{"from": day.AddDate(0, 0, 2).Format(time.RFC3339), "i": "DAY"},
		{"from": day.AddDate(-2, 0, 0).Format(time.RFC3339), "i": "DAY"},
	} {
		resp := srv.Do(t, c.tok, `query($from: DateTime!, $i: UtilizationInterval) { utilization(from: $from, interval: $i) { used } }`, vars)
		if codes := resp.Codes(); len(codes) != 1 || codes[0] != "BAD_USER_INPUT" {
			t.Errorf("utilization(%v): %s", vars, resp.Raw)
		}
	}
	resp := srv.Do(t, apitest.Token(t, tenant, "directory:read"), `query($from: DateTime!) { utilization(from: $from) { used } }`,
		map[string]any{"from": from.Format(time.RFC3339)})
	if codes := resp.Codes(); len(codes) != 1 || codes[0] != "FORBIDDEN" {
		t.Errorf("utilization without licenses:read: %s", resp.Raw)
	}
}

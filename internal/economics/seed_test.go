package economics_test

import (
	"encoding/json"
	"testing"
	"time"

	"seatgraph/internal/apitest"
	"seatgraph/internal/seed"
)

// TestSeededHistory: the demo seed leaves months of utilisation history
// that respects the seat rules on every day (used ≤ total, active ≤ used,
// pending ≤ used), moves over time, and ends in today's live counters.
func TestSeededHistory(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("seeded")
	if _, err := seed.Run(t.Context(), srv.DB, tenant); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv, tenant)
	super := apitest.DB(t).SQL(t)
	var days, bad int
	if err := super.QueryRow(`SELECT count(DISTINCT day),
		count(*) FILTER (WHERE seats_used > seats_total OR holders_active > seats_used OR seats_pending > seats_used)
		FROM license_snapshots WHERE tenant_id = $1`, tenant).Scan(&days, &bad); err != nil {
		t.Fatal(err)
	}
	if days < 150 || bad != 0 {
		t.Errorf("seeded history: %d days, %d rows breaking a seat rule", days, bad)
	}
	from := time.Now().UTC().AddDate(0, -6, 0).Format(time.RFC3339)
	d := c.do(`query($from: DateTime!) { utilization(from: $from, interval: MONTH) { start total used pending waitlisted active peakUsed days }
		licenses(first: 100) { nodes { seats { used } } } }`, map[string]any{"from": from})
	buckets := d["utilization"].([]any)
	if len(buckets) < 6 {
		t.Fatalf("%d monthly buckets, want 6 or 7", len(buckets))
	}
	first, last := buckets[0].(map[string]any), buckets[len(buckets)-1].(map[string]any)
	if num(first["used"]) >= num(last["used"]) {
		t.Errorf("no growth over six months: %v .. %v", first, last)
	}
	live := 0
	for _, l := range at(d, "licenses", "nodes").([]any) {
		live += num(at(l, "seats", "used"))
	}
	if num(last["used"]) != live {
		t.Errorf("this month ends at %v used, the licenses hold %d now", last["used"], live)
	}
	out, _ := json.Marshal(buckets)
	t.Logf("tenant utilization by month: %s", out)
}

package graph_test

import (
	"testing"

	"seatgraph/internal/apitest"
)

// A policy of one tenant never touches another's seats, however alike.
func TestReclaimTenantIsolation(t *testing.T) {
	srv := apitest.NewServer(t)
	a, b := newReclaimEnv(t, srv, "reclaim-iso-a"), newReclaimEnv(t, srv, "reclaim-iso-b")
	licA, licB := a.license("Same", 0), b.license("Same", 0)
	seatA, seatB := a.grant(licA, a.person("x@example.com")), b.grant(licB, b.person("x@example.com"))
	a.unusedFor(seatA, 60)
	b.unusedFor(seatB, 60)
	a.policy(licA, map[string]any{"inactiveDays": 1, "graceDays": 0, "action": "REVOKE"})
	a.run()
	a.passDays(1)
	a.run()
	if a.status(seatA) != "REVOKED" || b.status(seatB) != "ACTIVE" || len(b.history(seatB)) != 1 {
		t.Errorf("tenant A's seat %s, tenant B's %s (history %v): want REVOKED, ACTIVE untouched",
			a.status(seatA), b.status(seatB), b.history(seatB))
	}
}

// License.reclaimPolicy is batched: a page of licenses costs one read of
// their policies, however many there are.
func TestReclaimPolicyBatched(t *testing.T) {
	srv := apitest.NewServer(t)
	e := newReclaimEnv(t, srv, "reclaim-batched")
	for i := range 6 {
		lic := e.license(string(rune('A'+i))+" license", 0)
		if i%2 == 0 {
			e.policy(lic, map[string]any{"inactiveDays": 10 + i, "graceDays": 1, "action": "SUSPEND"})
		}
	}
	q := `{ licenses(first: 20) { nodes { name reclaimPolicy { inactiveDays action } } } }`
	srv.MustDo(t, e.tok, q, nil)
	// The least of three runs (a batch can split by timing on a busy machine).
	n := int64(-1)
	var data map[string]any
	for range 3 {
		before := srv.DB.Statements()
		data = srv.MustDo(t, e.tok, q, nil)
		if got := srv.DB.Statements() - before; n < 0 || got < n {
			n = got
		}
	}
	t.Logf("licenses(first: 20) with reclaimPolicy: %d statements", n)
	// BEGIN, the tenant setting, the licenses page, the policies, COMMIT.
	if n > 5 {
		t.Errorf("licenses with their reclaim policies cost %d statements, want at most 5", n)
	}
	with := 0
	for _, l := range jsonAt(t, data, "licenses", "nodes").([]any) {
		if p := jsonAt(t, l, "reclaimPolicy"); p != nil {
			with++
		}
	}
	if with != 3 {
		t.Errorf("%d licenses read with a policy, want 3: %v", with, data)
	}
}

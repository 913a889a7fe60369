package graph_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"seatgraph/internal/apitest"
	"seatgraph/internal/webhooks"
)

// BenchmarkEventLatency measures, on this machine, how long after a write
// on replica 2 has committed (its response is back) its event reaches a
// subscriber on replica 1 and a webhook receiver served by replica 1's
// worker: go test ./graph -run '^$' -bench EventLatency -benchtime 200x
func BenchmarkEventLatency(b *testing.B) {
	tenant := apitest.Tenant("latency")
	one, two := apitest.NewServer(b, allowPrivate), apitest.NewServer(b)
	tok := apitest.Token(b, tenant)
	do := func(q string, vars map[string]any) map[string]any { return two.MustDo(b, tok, q, vars) }
	lic := do(`mutation { createLicense(input: {name: "Latency"}) { license { id } } }`, nil)["createLicense"].(map[string]any)["license"].(map[string]any)["id"].(string)
	per := do(`mutation { createPerson(input: {email: "l@latency.example"}) { person { id } } }`, nil)["createPerson"].(map[string]any)["person"].(map[string]any)["id"].(string)
	grant := do(`mutation($l: ID!, $p: ID!) { assignLicense(input: {licenseId: $l, personId: $p}) { assignment { id } } }`,
		map[string]any{"l": lic, "p": per})["assignLicense"].(map[string]any)["assignment"].(map[string]any)["id"].(string)

	got := make(chan time.Time, 1000)
	rc := newReceiver(b, func(int, *http.Request) int {
		got <- time.Now()
		return http.StatusOK
	})
	one.MustDo(b, tok, `mutation($u: String!) { createWebhookEndpoint(input: {url: $u, eventTypes: ["assignment.suspended", "assignment.resumed"]}) { secret } }`,
		map[string]any{"u": rc.srv.URL})
	startWorker(b, one.DB, webhooks.Options{})
	sub, err := dialWS(b, one, "Bearer "+tok)
	if err != nil {
		b.Fatal(err)
	}
	sub.subscribe("s", eventsSub, map[string]any{"license": lic})
	time.Sleep(200 * time.Millisecond) // the subscription is set up

	var toSub, toHook []time.Duration
	b.ResetTimer()
	for i := range b.N {
		do(`mutation($id: ID!, $a: Boolean!) { updateAssignment(input: {id: $id, active: $a}) { assignment { id } } }`,
			map[string]any{"id": grant, "a": i%2 == 1})
		committed := time.Now()
		if _, err := sub.read(); err != nil {
			b.Fatal(err)
		}
		toSub = append(toSub, time.Since(committed))
		select {
		case at := <-got:
			toHook = append(toHook, at.Sub(committed))
		case <-time.After(guard):
			b.Fatal("no webhook")
		}
		<-rc.got
	}
	b.StopTimer()
	report := func(name string, ds []time.Duration) {
		slices.Sort(ds)
		b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, name+"-p50-ms")
		b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds())/1000, name+"-p99-ms")
	}
	report("subscriber", toSub)
	report("webhook", toHook)
}

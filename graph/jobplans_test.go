package graph_test

import (
	"net/http"
	"testing"

	"seatgraph/internal/apitest"
	"seatgraph/internal/webhooks"
)

// TestWebhookClaimReadsDueDeliveries: the worker's look for due deliveries
// (every second, for every tenant with an endpoint) reads the pending
// ones, not the tenant's whole delivery log, however long it has grown,
// also with a plan for any values (store.GenericPlans, the API's pool).
// Such a plan cannot use a partial index whose predicate only a value
// could prove: with its statuses sent as values, the claim read every
// delivery of every tenant. (The server runs the worker on the jobs'
// pool, store.JobPlans, where PostgreSQL may plan each claim for its
// values instead, at a planning a second per tenant; its plan for any
// values is now as good and spares that.)
func TestWebhookClaimReadsDueDeliveries(t *testing.T) {
	sent := &apitest.Statements{}
	srv := apitest.NewServer(t, allowPrivate, func(c *apitest.ServerConfig) { c.Store.Hooks = append(c.Store.Hooks, sent) })
	db := apitest.DB(t).SQL(t)
	tenant := apitest.Tenant("claimplan")
	a := newAPI(t, srv, tenant)
	rc := newReceiver(t, func(int, *http.Request) int { return http.StatusNoContent })
	createEndpoint(t, a, rc.srv.URL+"/hook", "license.created")
	// A delivery log of 20,000 delivered events.
	sqlExec(t, db, `WITH ev AS (
		INSERT INTO events (tenant_id, seq, id, type, occurred_at, actor, actor_type, subject_id, data)
		SELECT $1, -n, gen_random_uuid(), 'license.updated', now() - interval '1 day', 'test', 'SYSTEM', gen_random_uuid(), '{}'
		FROM generate_series(1, 20000) AS n RETURNING seq)
		INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, event_seq, status, attempts, created_at)
		SELECT $1, gen_random_uuid(), (SELECT id FROM webhook_endpoints WHERE tenant_id = $1), seq, 'DELIVERED', 1, now() FROM ev`, tenant)
	sqlExec(t, db, "ANALYZE webhook_deliveries")
	startWorker(t, srv.DB, webhooks.Options{})
	a.license("Due", 5)
	rc.next(t)

	claims := sent.Matching("FROM \"webhook_deliveries\"", "FOR UPDATE SKIP LOCKED")
	if len(claims) == 0 {
		t.Fatal("the worker sent no claim of due deliveries")
	}
	r := apitest.DB(t).Reads(t, tenant, claims[len(claims)-1])
	if r.Generic > 2*r.Custom+20 {
		t.Errorf("the claim of due deliveries read %d pages as the server plans it, %d as planned for its values:\n%s",
			r.Generic, r.Custom, r.Plan)
	}
}

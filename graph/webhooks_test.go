package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"seatgraph/internal/apitest"
	"seatgraph/internal/events"
	"seatgraph/internal/gid"
	"seatgraph/internal/store"
	"seatgraph/internal/webhooks"
)

// received is one request a test receiver got.
type received struct {
	id, timestamp, signature string
	body                     []byte
}

// receiver is a webhook endpoint whose answers the test scripts.
type receiver struct {
	srv    *httptest.Server
	got    chan received
	answer func(n int, r *http.Request) int
	mu     sync.Mutex
	n      int
}

func newReceiver(t testing.TB, answer func(n int, r *http.Request) int) *receiver {
	rc := &receiver{got: make(chan received, 100), answer: answer}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.n++
		n := rc.n
		rc.mu.Unlock()
		rc.got <- received{r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body}
		w.WriteHeader(rc.answer(n, r))
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) next(t *testing.T) received {
	t.Helper()
	select {
	case r := <-rc.got:
		return r
	case <-time.After(guard):
		t.Fatal("the receiver got no delivery")
		return received{}
	}
}

func allowPrivate(c *apitest.ServerConfig) { c.HTTP.WebhookAllowPrivate = true }

// startWorker runs a replica's webhook worker on srv's pool until stop.
func startWorker(t testing.TB, db *store.DB, opts webhooks.Options) (stop func()) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if opts.Schedule == nil {
		opts.Schedule = []time.Duration{time.Second, time.Second, time.Second}
	}
	opts.Guard.AllowPrivate, opts.Poll = true, 200*time.Millisecond
	w := webhooks.NewWorker(db, events.NewHub(db, log, events.Limits{}), log, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func createEndpoint(t *testing.T, a *api, url string, types ...string) (id, secret string) {
	t.Helper()
	in := map[string]any{"url": url}
	if types != nil {
		in["eventTypes"] = types
	}
	p := a.ok("createWebhookEndpoint", "endpoint { id enabled } secret", in)
	return p["endpoint"].(map[string]any)["id"].(string), p["secret"].(string)
}

func verified(t *testing.T, secret string, r received) bool {
	ts, err := strconv.ParseInt(r.timestamp, 10, 64)
	if err != nil {
		t.Fatalf("webhook-timestamp %q", r.timestamp)
	}
	return webhooks.Verify(secret, r.id, ts, r.body, r.signature)
}

func init() {
	inputType["createWebhookEndpoint"] = "CreateWebhookEndpointInput"
	inputType["updateWebhookEndpoint"] = "UpdateWebhookEndpointInput"
	inputType["deleteWebhookEndpoint"] = "DeleteWebhookEndpointInput"
	inputType["rotateWebhookSecret"] = "RotateWebhookSecretInput"
	inputType["redeliverWebhook"] = "RedeliverWebhookInput"
}

func TestWebhookRetriedUntilDelivered(t *testing.T) {
	srv := apitest.NewServer(t, allowPrivate)
	db := apitest.DB(t).SQL(t)
	tenant := apitest.Tenant("hooks")
	a := newAPI(t, srv, tenant)
	// Fails twice, then succeeds.
	rc := newReceiver(t, func(n int, _ *http.Request) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	_, secret := createEndpoint(t, a, rc.srv.URL+"/hook", "license.created", "license.updated")
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q", secret)
	}
	startWorker(t, srv.DB, webhooks.Options{})

	lic := a.license("Zoom", 5)
	a.person("not-sent@hooks.example") // person.created is not among the endpoint's types
	var evID string
	if err := db.QueryRow(`SELECT id FROM events WHERE tenant_id = $1 AND type = 'license.created'`, tenant).Scan(&evID); err != nil {
		t.Fatal(err)
	}
	var first received
	for i := range 3 {
		r := rc.next(t)
		if i == 0 {
			first = r
		}
		if !verified(t, secret, r) {
			t.Fatalf("attempt %d: signature %q does not verify", i+1, r.signature)
		}
		if r.id != first.id || string(r.body) != string(first.body) {
			t.Fatalf("attempt %d: webhook-id %s, body %s; want the first's %s", i+1, r.id, r.body, first.id)
		}
	}
	u, _ := gid.Event.Parse(first.id)
	if u.String() != evID {
		t.Fatalf("webhook-id %s is not the event %s", first.id, evID)
	}
	var body struct {
		Type string `json:"type"`
		Data struct {
			Object map[string]any `json:"object"`
		} `json:"data"`
	}
	if err := json.Unmarshal(first.body, &body); err != nil || body.Type != "license.created" || body.Data.Object["id"] != lic {
		t.Fatalf("body %s", first.body)
	}

	// The delivery log says what happened.
	var d map[string]any
	for range 100 {
		list := a.query(`{ webhookEndpoints { deliveries { eventId eventType status attempts lastStatus lastDurationMs } } }`, nil)
		d = list["webhookEndpoints"].([]any)[0].(map[string]any)["deliveries"].([]any)[0].(map[string]any)
		if d["status"] == "DELIVERED" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if d["status"] != "DELIVERED" || num(d["attempts"]) != 3 || num(d["lastStatus"]) != 204 || d["eventId"] != first.id ||
		d["eventType"] != "license.created" {
		t.Fatalf("delivery log: %v", d)
	}

	// After a rotation both secrets sign, until the overlap ends.
	eps := a.query(`{ webhookEndpoints { id } }`, nil)["webhookEndpoints"].([]any)
	rot := a.ok("rotateWebhookSecret", "secret", map[string]any{"id": eps[0].(map[string]any)["id"]})
	a.ok("updateLicense", "license { id }", map[string]any{"id": lic, "name": "Zoom One"})
	r := rc.next(t)
	if !verified(t, rot["secret"].(string), r) || !verified(t, secret, r) || rot["secret"] == secret {
		t.Fatalf("after rotation: %q must verify with the new and the old secret", r.signature)
	}
}

func TestWebhookReplicaKilledMidDelivery(t *testing.T) {
	srv := apitest.NewServer(t, allowPrivate)
	tenant := apitest.Tenant("hooks-kill")
	a := newAPI(t, srv, tenant)
	release := make(chan struct{})
	// The first request hangs: its replica dies while sending it.
	rc := newReceiver(t, func(n int, r *http.Request) int {
		if n == 1 {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	defer close(release)
	_, secret := createEndpoint(t, a, rc.srv.URL)

	// Replica 1's worker takes the delivery and is killed mid-request.
	one := apitest.NewServer(t)
	stop := startWorker(t, one.DB, webhooks.Options{Lease: 2 * time.Second})
	a.license("Slack", 0)
	first := rc.next(t)
	stop()

	// Replica 2 delivers it once replica 1's lease has run out.
	two := apitest.NewServer(t)
	startWorker(t, two.DB, webhooks.Options{Lease: 2 * time.Second})
	again := rc.next(t)
	if again.id != first.id || !verified(t, secret, again) {
		t.Fatalf("replica 2 sent %s (verified %v), want the same event %s", again.id, verified(t, secret, again), first.id)
	}
}

func TestWebhookSSRF(t *testing.T) {
	srv := apitest.NewServer(t) // WEBHOOK_ALLOW_PRIVATE off
	a := newAPI(t, srv, apitest.Tenant("hooks-ssrf"))
	for _, url := range []string{"http://127.0.0.1:8080/hook", "http://localhost/hook", "http://169.254.169.254/latest/meta-data",
		"http://10.1.2.3/", "http://[::1]/", "http://192.168.0.1/", "ftp://example.com/", "not a url"} {
		e := a.fails("createWebhookEndpoint", "INVALID", map[string]any{"url": url})
		if e["field"] != "input.url" {
			t.Errorf("%s: %v", url, e)
		}
	}
	if n := len(a.query(`{ webhookEndpoints { id } }`, nil)["webhookEndpoints"].([]any)); n != 0 {
		t.Fatalf("refused endpoints were stored: %d", n)
	}
	// The delivery client refuses a private address at connect time too
	// (a public name that resolves to one later).
	rc := newReceiver(t, func(int, *http.Request) int { return http.StatusOK })
	_, err := webhooks.Guard{}.Client(time.Second).Post(rc.srv.URL, "application/json", strings.NewReader("{}"))
	if !errors.Is(err, webhooks.ErrPrivate) {
		t.Fatalf("delivery to loopback: want ErrPrivate, got %v", err)
	}
	// Without the admin scope there is no webhook API.
	r := srv.Do(t, apitest.Token(t, "hooks-ssrf-x", "licenses:write"), `{ webhookEndpoints { id } }`, nil)
	if len(r.Codes()) == 0 || r.Codes()[0] != "FORBIDDEN" {
		t.Fatalf("without admin: %s", r.Raw)
	}
}

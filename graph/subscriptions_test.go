package graph_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"seatgraph/internal/apitest"
	"seatgraph/internal/auth"
	"seatgraph/internal/events"
	"seatgraph/internal/store"
)

// wsClient is a graphql-transport-ws client.
type wsClient struct {
	t testing.TB
	c *websocket.Conn
}

// guard bounds a wait for a message, so that a broken server fails the
// test instead of hanging it; it is no assertion about speed.
const guard = 20 * time.Second

func dialWS(t testing.TB, srv *apitest.Server, authorization string) (*wsClient, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/query",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	w := &wsClient{t: t, c: c}
	payload := map[string]any{}
	if authorization != "" {
		payload["Authorization"] = authorization
	}
	w.send(map[string]any{"type": "connection_init", "payload": payload})
	m, err := w.read()
	if err != nil {
		return nil, err
	}
	if m["type"] != "connection_ack" {
		t.Fatalf("want connection_ack, got %v", m)
	}
	return w, nil
}

func (w *wsClient) send(m map[string]any) {
	w.t.Helper()
	b, _ := json.Marshal(m)
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if err := w.c.Write(ctx, websocket.MessageText, b); err != nil {
		w.t.Fatal(err)
	}
}

// read returns the next message that is not a ping (answering pings),
// waiting at most guard in all: the server's pings must not keep a read
// for a message that never comes waiting for ever.
func (w *wsClient) read() (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	for {
		_, b, err := w.c.Read(ctx)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		switch m["type"] {
		case "ping":
			w.send(map[string]any{"type": "pong"})
		case "pong":
		default:
			return m, nil
		}
	}
}

// lastEvent is the id of the last history event of assignment id: a
// subscription started after it receives every later event, however soon
// after the subscribe message they commit (a subscription without after
// starts at the tenant's head when the server gets to it, which a write
// racing it may already have passed).
func (a *api) lastEvent(id string) string {
	a.t.Helper()
	nodes := a.query(`query($id: ID!) { assignment(id: $id) { history(last: 1) { nodes { id } } } }`,
		map[string]any{"id": id})["assignment"].(map[string]any)["history"].(map[string]any)["nodes"].([]any)
	return nodes[len(nodes)-1].(map[string]any)["id"].(string)
}

func (w *wsClient) subscribe(id, query string, vars map[string]any) {
	w.send(map[string]any{"type": "subscribe", "id": id, "payload": map[string]any{"query": query, "variables": vars}})
}

// next reads the next result of subscription id.
func (w *wsClient) next(id string) map[string]any {
	w.t.Helper()
	m, err := w.read()
	if err != nil {
		w.t.Fatalf("subscription %s: %v", id, err)
	}
	if m["id"] != id || m["type"] != "next" {
		w.t.Fatalf("subscription %s: want next, got %v", id, m)
	}
	p := m["payload"].(map[string]any)
	if p["errors"] != nil {
		w.t.Fatalf("subscription %s: errors %v", id, p["errors"])
	}
	return p["data"].(map[string]any)
}

const eventsSub = `subscription($license: ID, $after: String) {
  assignmentEvents(licenseId: $license, after: $after) { id type eventType assignmentId actor data }
}`

func eventOf(d map[string]any) map[string]any { return d["assignmentEvents"].(map[string]any) }

func TestSubscriptionsAcrossReplicas(t *testing.T) {
	tenant, other := apitest.Tenant("subs"), apitest.Tenant("subs-other")
	r := replicas(t, tenant)
	r1, r2 := r[0], r[1]
	b := newAPI(t, r1.srv, other)
	lic := r2.license("Sketch", 10)
	people := []string{r2.person("a@subs.example"), r2.person("b@subs.example"), r2.person("c@subs.example"),
		r2.person("d@subs.example"), r2.person("e@subs.example")}

	// Tenant subs listens on replica 1, for the license and for everything;
	// the other tenant listens on replica 1 too. Each starts after an
	// event of its own tenant (lastEvent), so no write below can pass it.
	warm := r1.assign(lic, map[string]any{"email": "warmup@subs.example"})["assignment"].(map[string]any)["id"].(string)
	sub, err := dialWS(t, r1.srv, "Bearer "+r1.tok)
	if err != nil {
		t.Fatal(err)
	}
	sub.subscribe("lic", eventsSub, map[string]any{"license": lic, "after": r1.lastEvent(warm)})
	bWarm := b.assign(b.license("Warm-up", 0), map[string]any{"email": "warmup@other.example"})["assignment"].(map[string]any)["id"].(string)
	spy, err := dialWS(t, r1.srv, "Bearer "+b.tok)
	if err != nil {
		t.Fatal(err)
	}
	spy.subscribe("all", eventsSub, map[string]any{"after": b.lastEvent(bWarm)})

	// Writes on replica 2 reach replica 1's subscriber, in commit order.
	var want []string
	for _, p := range people[:3] {
		want = append(want, r2.assign(lic, map[string]any{"personId": p})["assignment"].(map[string]any)["id"].(string))
	}
	var last string
	for i, id := range want {
		ev := eventOf(sub.next("lic"))
		if ev["assignmentId"] != id || ev["type"] != "ASSIGNED" || ev["eventType"] != "assignment.created" ||
			ev["actor"] != "test-user" {
			t.Fatalf("event %d: got %v, want assignment.created of %s", i, ev, id)
		}
		obj := ev["data"].(map[string]any)["object"].(map[string]any)
		if obj["id"] != id || obj["status"] != "ACTIVE" || obj["assigneeId"] != people[i] {
			t.Fatalf("event %d data: %v", i, obj)
		}
		last = ev["id"].(string)
	}

	// The other tenant saw none of it: its first event is its own.
	bl := b.license("Own", 0)
	bp := b.person("x@other.example")
	own := b.assign(bl, map[string]any{"personId": bp})["assignment"].(map[string]any)["id"].(string)
	if ev := eventOf(spy.next("all")); ev["assignmentId"] != own {
		t.Fatalf("the other tenant received %v, want only its own assignment %s", ev, own)
	}

	// A subscriber that reconnects with after gets what it missed, no gap.
	_ = sub.c.Close(websocket.StatusNormalClosure, "bye")
	var missed []string
	for _, p := range people[3:] {
		missed = append(missed, r2.assign(lic, map[string]any{"personId": p})["assignment"].(map[string]any)["id"].(string))
	}
	again, err := dialWS(t, r1.srv, "Bearer "+r1.tok)
	if err != nil {
		t.Fatal(err)
	}
	again.subscribe("lic", eventsSub, map[string]any{"license": lic, "after": last})
	for i, id := range missed {
		if ev := eventOf(again.next("lic")); ev["assignmentId"] != id {
			t.Fatalf("resumed event %d: got %v, want %s", i, ev, id)
		}
	}
	// A cursor of another tenant is unknown here.
	again.subscribe("bad", eventsSub, map[string]any{"after": b.query(`query($id: ID!) { assignment(id: $id) { history { nodes { id } } } }`,
		map[string]any{"id": own})["assignment"].(map[string]any)["history"].(map[string]any)["nodes"].([]any)[0].(map[string]any)["id"]})
	if m, _ := again.read(); m["id"] != "bad" || !strings.Contains(fmt.Sprint(m["payload"]), "BAD_USER_INPUT") {
		t.Fatalf("another tenant's cursor: want an error, got %v", m)
	}
}

func TestSubscriptionCredentials(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("subs-auth")

	// No credentials in connection_init: closed with 4401.
	if _, err := dialWS(t, srv, ""); websocket.CloseStatus(err) != 4401 {
		t.Fatalf("no credentials: want close 4401, got %v", err)
	}
	if _, err := dialWS(t, srv, "Bearer not-a-token"); websocket.CloseStatus(err) != 4401 {
		t.Fatalf("bad token: want close 4401, got %v", err)
	}
	// Credentials without licenses:read: the subscription is refused.
	w, err := dialWS(t, srv, "Bearer "+apitest.Token(t, tenant, auth.ScopeDirectoryRead))
	if err != nil {
		t.Fatal(err)
	}
	w.subscribe("1", eventsSub, nil)
	m, err := w.read()
	if err != nil || !strings.Contains(fmt.Sprint(m["payload"]), "FORBIDDEN") {
		t.Fatalf("without licenses:read: want FORBIDDEN, got %v %v", m, err)
	}

	// A browser on a foreign origin cannot open a WebSocket.
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/query", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: http.Header{"Origin": {"https://evil.example"}}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: want 403, got %v %v", resp, err)
	}
	// An origin in CORS_ALLOWED_ORIGINS may.
	app := apitest.NewServer(t, func(c *apitest.ServerConfig) { c.HTTP.CORSOrigins = []string{"https://app.example"} })
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(app.URL, "http")+"/query", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: http.Header{"Origin": {"https://app.example"}}})
	if err != nil {
		t.Fatalf("allowed origin: %v", err)
	}
	_ = c.CloseNow()
}

func TestLicenseSeatsOverSSE(t *testing.T) {
	tenant := apitest.Tenant("sse")
	r := replicas(t, tenant)
	lic := r[0].license("Miro", 4)
	p := r[0].person("p@sse.example")

	body, _ := json.Marshal(map[string]any{"query": `subscription($id: ID!) { licenseSeats(licenseId: $id) { id seats { used available } } }`,
		"variables": map[string]any{"id": lic}})
	req, _ := http.NewRequest(http.MethodPost, r[0].srv.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+r[0].tok)
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	events := bufio.NewScanner(resp.Body)
	next := func() map[string]any {
		t.Helper()
		for events.Scan() {
			if data, ok := strings.CutPrefix(events.Text(), "data: "); ok {
				var m struct {
					Data   map[string]any `json:"data"`
					Errors []any          `json:"errors"`
				}
				if err := json.Unmarshal([]byte(data), &m); err != nil || m.Errors != nil {
					t.Fatalf("event %s: %v", data, err)
				}
				return m.Data["licenseSeats"].(map[string]any)["seats"].(map[string]any)
			}
		}
		t.Fatalf("stream ended: %v", events.Err())
		return nil
	}
	if s := next(); num(s["used"]) != 0 || num(s["available"]) != 4 {
		t.Fatalf("first: %v", s)
	}
	r[1].assign(lic, map[string]any{"personId": p})
	if s := next(); num(s["used"]) != 1 || num(s["available"]) != 3 {
		t.Fatalf("after a seat was taken on the other replica: %v", s)
	}
}

// A subscriber that stops reading is dropped once its buffer stayed full
// for SlowAfter; the stream says why, and the others are not held up. A
// burst larger than the buffer, committed at once, reaches a subscriber
// that reads.
func TestSlowSubscriberDropped(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("slow")
	a := newAPI(t, srv, tenant)
	hub := events.NewHub(srv.DB, slog.New(slog.NewTextHandler(io.Discard, nil)),
		events.Limits{Buffer: 2, SlowAfter: 2 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	slow, err := hub.Subscribe(ctx, store.Tenant{ID: tenant}, 0, events.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	fast, err := hub.Subscribe(ctx, store.Tenant{ID: tenant}, 0, events.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan int)
	go func() {
		n := 0
		for range fast.C {
			if n++; n == 6 {
				got <- n
			}
		}
	}()
	// Six grants in one transaction: six events committed at once, three
	// times the buffer.
	lic := a.license("Burst", 0)
	items := make([]map[string]any, 6)
	for i := range items {
		items[i] = map[string]any{"licenseId": lic, "email": fmt.Sprintf("p%d@slow.example", i)}
	}
	a.ok("assignLicenses", "assignments { id }", map[string]any{"items": items})
	select {
	case <-slow.Done():
	case <-time.After(guard):
		t.Fatal("the slow subscriber was not dropped")
	}
	n := 0
	for range slow.C {
		n++
	}
	if !errors.Is(slow.Err(), events.ErrSlow) || n != 2 {
		t.Fatalf("slow subscriber: %d events, err %v; want its 2 buffered and ErrSlow", n, slow.Err())
	}
	select {
	case <-got:
	case <-time.After(guard):
		t.Fatal("the reading subscriber did not get its 6 events")
	}
}

// A subscription asked over plain HTTP (no WebSocket, no SSE) is refused,
// not left hanging; and the per-tenant limit holds.
func TestSubscriptionLimitsAndTransports(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("subs-http")
	tok := apitest.Token(t, tenant)
	done := make(chan *apitest.Response, 1)
	go func() {
		done <- srv.Do(t, tok, `subscription { licenseSeats(licenseId: "lic_01h455vb4pex5vsknk084sn02q") { id } }`, nil)
	}()
	select {
	case r := <-done:
		if len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "WebSocket") {
			t.Fatalf("a subscription over plain POST answered %d %s", r.Status, r.Raw)
		}
	case <-time.After(guard):
		t.Fatal("a subscription over plain POST hangs")
	}

	hub := events.NewHub(srv.DB, slog.New(slog.NewTextHandler(io.Discard, nil)), events.Limits{PerTenant: 1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := hub.Subscribe(ctx, store.Tenant{ID: tenant}, 0, events.Filter{}); err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Subscribe(ctx, store.Tenant{ID: tenant}, 0, events.Filter{}); !errors.Is(err, events.ErrTooMany) {
		t.Fatalf("second stream of a tenant limited to 1: %v", err)
	}
	if _, err := hub.Subscribe(ctx, store.Tenant{ID: tenant + "-other"}, 0, events.Filter{}); err != nil {
		t.Fatalf("another tenant is not limited by the first: %v", err)
	}
}

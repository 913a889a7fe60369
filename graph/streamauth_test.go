package graph_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"seatgraph/internal/apikey"
	"seatgraph/internal/apitest"
	"seatgraph/internal/auth"
	"seatgraph/internal/store"
)

// A subscription lasts no longer than the credentials it was opened with:
// a WebSocket whose token expires, or whose API key is revoked, is closed
// with 4401; a Server-Sent Events stream whose token expires ends.
func TestSubscriptionEndsWhenCredentialsLapse(t *testing.T) {
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) { c.HTTP.StreamRecheck = 100 * time.Millisecond })
	tenant := apitest.Tenant("lapse")
	a := newAPI(t, srv, tenant)
	lic := a.license("Figma", 5)
	// Both streams' tokens are minted now and expire together, long
	// enough from now for a first event to arrive on a loaded machine.
	brief := apitest.TokenFor(t, auth.TokenRequest{Tenant: tenant, Subject: "brief", Scopes: auth.AllScopes, TTL: 12 * time.Second})

	// A Server-Sent Events stream: its first event now, its end below.
	body, _ := json.Marshal(map[string]any{"query": `subscription($id: ID!) { licenseSeats(licenseId: $id) { seats { used } } }`,
		"variables": map[string]any{"id": lic}})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+brief)
	ctx, cancel := context.WithTimeout(context.Background(), 2*guard)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() && !strings.HasPrefix(lines.Text(), "data: ") {
	}
	if lines.Err() != nil || !strings.Contains(lines.Text(), `"used":0`) {
		t.Fatalf("SSE: want the seats now, got %q, %v", lines.Text(), lines.Err())
	}

	// A token that expires while its WebSocket is open: an event before
	// the expiry arrives, then the connection is closed with 4401.
	w, err := dialWS(t, srv, "Bearer "+brief)
	if err != nil {
		t.Fatal(err)
	}
	first := a.assign(lic, map[string]any{"email": "first@lapse.example"})["assignment"].(map[string]any)["id"].(string)
	w.subscribe("1", eventsSub, map[string]any{"license": lic, "after": a.lastEvent(first)})
	a.assign(lic, map[string]any{"personId": a.person("before@lapse.example")})
	if e := eventOf(w.next("1")); e["eventType"] != "assignment.created" {
		t.Fatalf("before the expiry: %v", e)
	}
	if err := closed(w); websocket.CloseStatus(err) != 4401 || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("token expired: want close 4401 saying it expired, got %v", err)
	}

	// An API key revoked while its WebSocket is open: closed with 4401.
	owner := apitest.DB(t).OpenWith(t, apitest.DB(t).OwnerURL, store.Options{MaxConns: 2})
	keys := apikey.NewStore(owner.Bun())
	key, rec, err := keys.Create(context.Background(), apikey.CreateRequest{Tenant: tenant, Scopes: auth.AllScopes, CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	w, err = dialWS(t, srv, "ApiKey "+key)
	if err != nil {
		t.Fatal(err)
	}
	w.subscribe("2", eventsSub, map[string]any{"license": lic, "after": a.lastEvent(first)})
	a.assign(lic, map[string]any{"personId": a.person("keyed@lapse.example")})
	if e := eventOf(w.next("2")); e["eventType"] != "assignment.created" {
		t.Fatalf("before the revocation: %v", e)
	}
	if _, err := keys.Revoke(context.Background(), rec.PublicID()); err != nil {
		t.Fatal(err)
	}
	if err := closed(w); websocket.CloseStatus(err) != 4401 || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("key revoked: want close 4401 saying it was revoked, got %v", err)
	}

	// The stream's token has expired too: the stream ends (after the
	// seat counts the two grants above sent).
	for lines.Scan() {
	}
	if lines.Err() != nil || ctx.Err() != nil {
		t.Fatalf("SSE: want the stream's end once its token expired; got %v, %v", lines.Err(), ctx.Err())
	}
}

// closed reads w until the server closes it and returns why; a connection
// still open after two guards is an error (the server's pings would keep
// read waiting for ever).
func closed(w *wsClient) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*guard)
	defer cancel()
	for {
		_, b, err := w.c.Read(ctx)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), `"ping"`) {
			w.send(map[string]any{"type": "pong"})
		}
	}
}

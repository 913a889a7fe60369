package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"seatgraph/internal/apikey"
	"seatgraph/internal/apitest"
	"seatgraph/internal/auth"
	"seatgraph/internal/gid"
	"seatgraph/internal/store"
)

// TestStreamEndsAtKeyExpiryDuringOutage: an API key's stream ends when
// the key expires even while the database cannot be reached to check it
// again (the expiry is known without asking).
func TestStreamEndsAtKeyExpiryDuringOutage(t *testing.T) {
	db := apitest.DB(t)
	u, err := url.Parse(db.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	px := startProxy(t, u.Host)
	u.Host = px.addr
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) {
		c.DatabaseURL = u.String()
		c.HTTP.StreamRecheck = 100 * time.Millisecond
	})
	tenant := apitest.Tenant("streamoutage")
	lic := apitest.NewFixture(t, srv.DB, tenant).License("Outage", 3)
	owner := db.OpenWith(t, db.OwnerURL, store.Options{MaxConns: 1})
	// A key that expires soon: the stream must be open before then, so
	// on a slow machine try again with a longer life.
	for ttl := 3 * time.Second; ; ttl *= 2 {
		key, _, err := apikey.NewStore(owner.Bun()).Create(context.Background(), apikey.CreateRequest{Tenant: tenant,
			Scopes: auth.AllScopes, CreatedBy: "test", TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		expires := time.Now().Add(ttl)
		body, _ := json.Marshal(map[string]any{"query": `subscription($id: ID!) { licenseSeats(licenseId: $id) { seats { used } } }`,
			"variables": map[string]any{"id": gid.License.Format(lic.ID)}})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Authorization", "ApiKey "+key)
		ctx, cancel := context.WithTimeout(context.Background(), ttl+time.Minute)
		defer cancel()
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		lines := bufio.NewScanner(resp.Body)
		for lines.Scan() && !strings.HasPrefix(lines.Text(), "data: ") {
		}
		if !strings.Contains(lines.Text(), `"used":0`) {
			if time.Now().After(expires) && ttl < time.Minute {
				continue // the key expired before the stream opened
			}
			t.Fatalf("SSE: want the seats now, got %q, %v", lines.Text(), lines.Err())
		}
		px.down()
		for lines.Scan() {
		}
		if ctx.Err() != nil {
			t.Fatalf("the stream outlived its key's expiry by a minute while the database was down")
		}
		return
	}
}

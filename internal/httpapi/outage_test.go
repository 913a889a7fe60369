package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"seatgraph/internal/apikey"
	"seatgraph/internal/apitest"
	"seatgraph/internal/store"
)

// proxy forwards TCP connections to the test database, so a test can cut
// the server off from it (as a database restart or a network failure
// would) without touching the cluster other tests use.
type proxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	p := &proxy{addr: "127.0.0.1:0", target: target}
	p.up(t)
	p.addr = p.ln.Addr().String()
	t.Cleanup(p.down)
	return p
}

// up starts accepting connections (again, on the same address).
func (p *proxy) up(t *testing.T) {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(u, c); u.Close() }()
			go func() { _, _ = io.Copy(c, u); c.Close() }()
		}
	}()
}

// down refuses new connections and cuts the open ones.
func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.ln.Close()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

// TestDatabaseOutage: while the database cannot be reached, every caller,
// whatever its credential, gets one answer, HTTP 503 with
// SERVICE_UNAVAILABLE and Retry-After; when it is back, the same server
// answers again.
func TestDatabaseOutage(t *testing.T) {
	db := apitest.DB(t)
	u, err := url.Parse(db.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	px := startProxy(t, u.Host)
	u.Host = px.addr
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) { c.DatabaseURL = u.String() })
	tenant := apitest.Tenant("outage")
	apitest.NewFixture(t, srv.DB, tenant).License("Outage", 3)
	owner := db.OpenWith(t, db.OwnerURL, store.Options{MaxConns: 1})
	key, _, err := apikey.NewStore(owner.Bun()).Create(context.Background(), apikey.CreateRequest{Tenant: tenant,
		Scopes: []string{"licenses:read", "licenses:write"}, CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	credentials := map[string]string{
		"JWT":     "Bearer " + apitest.Token(t, tenant),
		"API key": "ApiKey " + key,
	}
	operations := map[string]string{
		"query":    `{ licenses { totalCount } }`,
		"mutation": `mutation { createLicense(input: {name: "During the outage", vendor: "Acme"}) { license { id } } }`,
	}
	call := func(auth, query string) *apitest.Response {
		body, _ := json.Marshal(map[string]any{"query": query})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", auth)
		return srv.Send(t, req)
	}
	for name, auth := range credentials {
		if r := call(auth, operations["query"]); r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("%s before the outage: %d %s", name, r.Status, r.Raw)
		}
	}

	px.down()
	for cname, auth := range credentials {
		for oname, q := range operations {
			r := call(auth, q)
			if r.Status != http.StatusServiceUnavailable || len(r.Codes()) == 0 {
				t.Errorf("%s %s during the outage: %d %s, want 503 SERVICE_UNAVAILABLE", cname, oname, r.Status, r.Raw)
				continue
			}
			for _, c := range r.Codes() {
				if c != "SERVICE_UNAVAILABLE" {
					t.Errorf("%s %s during the outage: %s, want only SERVICE_UNAVAILABLE", cname, oname, r.Raw)
				}
			}
			if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s <= 0 {
				t.Errorf("%s %s during the outage: Retry-After %q, want seconds", cname, oname, r.Header.Get("Retry-After"))
			}
		}
	}
	if resp, err := http.Get(srv.URL + "/readyz"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage: %v %v, want 503", resp, err)
	}

	px.up(t)
	deadline := time.Now().Add(10 * time.Second)
	for cname, auth := range credentials {
		for {
			r := call(auth, operations["query"])
			if r.Status == http.StatusOK && len(r.Errors) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s after the outage: %d %s", cname, r.Status, r.Raw)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

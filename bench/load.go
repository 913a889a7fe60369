package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// run is what one measured phase saw.
type run struct {
	Requests   int
	Errors     int
	FirstError string
	Elapsed    time.Duration
	latencies  []time.Duration
}

func (r *run) rps() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

func (r *run) pct(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	l := slices.Clone(r.latencies)
	slices.Sort(l)
	return l[min(len(l)-1, int(float64(len(l))*p))]
}

type recorder struct {
	mu  sync.Mutex
	r   run
	seq atomic.Int64
}

func (rec *recorder) do(ctx context.Context, call call) {
	i := int(rec.seq.Add(1) - 1)
	start := time.Now()
	err := call(ctx, i)
	took := time.Since(start)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.r.Requests++
	rec.r.latencies = append(rec.r.latencies, took)
	if err != nil {
		rec.r.Errors++
		if rec.r.FirstError == "" {
			rec.r.FirstError = err.Error()
		}
	}
}

// client posts GraphQL requests to the server over keep-alive HTTP/1.1
// connections. Each request is written, and its answer read, in the
// goroutine that sends it, with net/http's own request writer and
// response reader: the load generator shares the machine with the server
// it measures, so it should cost as little as a client can. net/http's
// Transport hands every request to a writing goroutine and every answer
// back from a reading one (bench/README.md, "The load generator").
type client struct {
	addr  string
	url   string
	token string
	idle  chan *clientConn // connections between requests
}

type clientConn struct {
	net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

// idleConns is how many connections a client keeps between requests:
// more than the bench ever has in flight.
const idleConns = 256

func newClient(url, token string) *client {
	return &client{addr: strings.TrimPrefix(url, "http://"), url: url + "/query", token: token,
		idle: make(chan *clientConn, idleConns)}
}

// roundTrip sends req on an idle connection (or a new one) and reads the
// whole answer; the connection is kept for the next request unless
// either side closes it or the exchange failed.
func (c *client) roundTrip(ctx context.Context, req *http.Request) (*http.Response, []byte, error) {
	var cc *clientConn
	select {
	case cc = <-c.idle:
	default:
		var d net.Dialer
		nc, err := d.DialContext(ctx, "tcp", c.addr)
		if err != nil {
			return nil, nil, err
		}
		cc = &clientConn{Conn: nc, r: bufio.NewReader(nc), w: bufio.NewWriter(nc)}
	}
	resp, body, err := cc.roundTrip(req)
	if err != nil || resp.Close {
		cc.Close()
		return resp, body, err
	}
	select {
	case c.idle <- cc:
	default:
		cc.Close()
	}
	return resp, body, nil
}

func (cc *clientConn) roundTrip(req *http.Request) (*http.Response, []byte, error) {
	if err := cc.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return nil, nil, err
	}
	if err := req.Write(cc.w); err != nil {
		return nil, nil, err
	}
	if err := cc.w.Flush(); err != nil {
		return nil, nil, err
	}
	resp, err := http.ReadResponse(cc.r, req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// post sends one request and fails on any GraphQL error or userError.
func (c *client) post(ctx context.Context, query string, vars map[string]any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, raw, err := c.roundTrip(ctx, req)
	if err != nil {
		return err
	}
	// One decoding of the answer (what a client does), which checks that
	// it is JSON, and reads errors and each root field's userErrors and
	// failed items, skipping the rest.
	var out struct {
		Errors []json.RawMessage `json:"errors"`
		Data   map[string]*struct {
			UserErrors []json.RawMessage `json:"userErrors"`
			Failed     int               `json:"failed"` // items of a batch with an error
		} `json:"data"`
	}
	// A root field that is not an object (a list such as utilization, a
	// scalar) has no userErrors: the decoder notes that it cannot go into
	// the struct, skips it and reads the rest, so that note alone is no
	// failure.
	err = json.Unmarshal(raw, &out)
	if te := (*json.UnmarshalTypeError)(nil); errors.As(err, &te) && te.Field == "data" {
		err = nil
	}
	if err != nil || resp.StatusCode != http.StatusOK || len(out.Errors) > 0 {
		return fmt.Errorf("status %d: %.300s", resp.StatusCode, raw)
	}
	for _, v := range out.Data {
		if v != nil && (len(v.UserErrors) > 0 || v.Failed > 0) {
			return fmt.Errorf("userErrors or failed items: %.300s", raw)
		}
	}
	return nil
}

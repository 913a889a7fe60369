package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
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

// client posts GraphQL requests to the server.
type client struct {
	url   string
	token string
	http  *http.Client
}

func newClient(url, token string) *client {
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}
	return &client{url: url + "/query", token: token, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// post sends one request and fails on any GraphQL error or userError.
func (c *client) post(ctx context.Context, query string, vars map[string]any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
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

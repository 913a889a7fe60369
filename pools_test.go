package main

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"seatgraph/internal/apitest"
)

// TestJobsPoolMetrics: /metrics shows the background jobs' pool (its own
// 4 connections) beside the requests' pool, so that an operator sees the
// jobs wait for a connection or hold all of theirs.
func TestJobsPoolMetrics(t *testing.T) {
	port := serverEnv(t, apitest.DB(t), map[string]string{"DATABASE_MAX_CONNS": "7"})
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx) }()
	defer func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()

	base := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-served:
			served <- err
			t.Fatalf("serve returned before it was ready: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server was not ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	for _, series := range []string{
		`go_sql_max_open_connections{db_name="seatgraph"} 7`,
		`go_sql_max_open_connections{db_name="seatgraph_jobs"} 4`,
	} {
		if !strings.Contains(string(body), series+"\n") {
			t.Errorf("/metrics has no %s", series)
		}
	}
}

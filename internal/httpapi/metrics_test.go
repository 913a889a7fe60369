package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"seatgraph/internal/apitest"
)

// TestMetrics: /metrics serves Prometheus text with the request counts and
// the SQL statement counter, which move with the traffic.
func TestMetrics(t *testing.T) {
	srv := apitest.NewServer(t)
	tok := apitest.Token(t, apitest.Tenant("metrics"))
	srv.MustDo(t, tok, `{ licenses { totalCount } }`, nil)
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	text := string(body)
	for _, want := range []string{
		`seatgraph_http_requests_total{method="POST",path="/query",status="200"} 1`,
		`seatgraph_http_request_duration_seconds_count{path="/query"} 1`,
		"seatgraph_sql_statements_total ",
		"go_goroutines ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if resp.StatusCode != http.StatusOK || strings.Contains(text, "seatgraph_sql_statements_total 0\n") {
		t.Errorf("status %d, statements not counted", resp.StatusCode)
	}
}

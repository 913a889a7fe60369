package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"seatgraph/internal/apitest"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

// TestPostReadsEveryRootField: the load generator's post, against the
// real server, takes an answer whose root field is a list (make
// bench-check sends `utilization`, a list of buckets) and still fails on
// a userError.
func TestPostReadsEveryRootField(t *testing.T) {
	srv := apitest.NewServer(t)
	c := newClient(srv.URL, apitest.Token(t, apitest.Tenant("benchpost")))
	from := time.Now().Add(-90 * 24 * time.Hour).UTC().Format(time.RFC3339)
	for _, q := range []string{
		`{ utilization(from: "` + from + `", interval: MONTH) { start used } }`,
		`{ licenses(first: 1) { totalCount } utilization(from: "` + from + `", interval: MONTH) { start } }`,
	} {
		if err := c.post(t.Context(), q, nil); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
	err := c.post(t.Context(), `mutation { recordUsage(input: {assignmentId: "nonsense"}) { updated userErrors { code } } }`, nil)
	if err == nil || !strings.Contains(err.Error(), "userErrors") {
		t.Errorf("a userError: %v, want the post to fail on it", err)
	}
}

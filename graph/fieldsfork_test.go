package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"seatgraph/internal/apitest"
)

// timerBatches is the server's seatgraph_loader_timer_batches_total lines
// (the batches that ran when the loaders' wait ran out), as /metrics shows.
func timerBatches(t *testing.T, srv *apitest.Server) string {
	t.Helper()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var lines []string
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "seatgraph_loader_timer_batches_total{") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "; ")
}

// post sends a GraphQL request from any goroutine (no testing.T) and
// returns the response's body.
func post(url, token, query string) (int, []byte, error) {
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, url+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// TestLastAskerStartsItsSiblings: the field whose ask completes its
// level's batch (it runs the batch's read itself) lets the fields after
// it in its object start first, as every field about to read does. The
// people's groups are then read in one batch while their assignments are
// still being read; were the last asker's groups left to wait for the
// assignments' read, the others' batch would run on its timer without
// them, and their groups in a second statement. The assignments' read is
// made to wait for a lock the test holds, so the outcome does not depend
// on how long a read takes.
func TestLastAskerStartsItsSiblings(t *testing.T) {
	stmts := &apitest.Statements{}
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) { c.Store.Hooks = append(c.Store.Hooks, stmts) })
	tenant := apitest.Tenant("lastasker")
	a := newAPI(t, srv, tenant)
	lic := a.license("Suite", 0)
	var people []string
	for i := range 3 {
		p := a.person(fmt.Sprintf("p%d@%s.example", i, tenant))
		people = append(people, p)
		a.assign(lic, map[string]any{"personId": p})
	}
	a.group("Team", people...)
	const query = `{ people(first: 10) { nodes {
		assignments(first: 5) { nodes { id } }
		groups(first: 5) { nodes { name } } } } }`
	a.query(query, nil) // warm the query cache and the pool
	super := apitest.DB(t).SQL(t)
	groupReads := func() int { return len(stmts.Matching("gm.person_id AS parent")) }

	// A batch can split by timing on a busy machine; the design's count
	// is the least of three runs.
	least := -1
	for range 3 {
		beforeTimer, beforeGroups := timerBatches(t, srv), groupReads()
		lock, err := super.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lock.Exec("LOCK TABLE assignments IN ACCESS EXCLUSIVE MODE"); err != nil {
			t.Fatal(err)
		}
		type answer struct {
			status int
			body   []byte
			err    error
		}
		done := make(chan answer, 1)
		go func() {
			status, body, err := post(srv.URL, a.tok, query)
			done <- answer{status, body, err}
		}()
		// The groups are read while the assignments' read waits.
		deadline := time.Now().Add(60 * time.Second)
		for groupReads() == beforeGroups {
			if time.Now().After(deadline) {
				_ = lock.Rollback()
				t.Fatal("no read of the people's groups while their assignments' read waited for the lock")
			}
			time.Sleep(5 * time.Millisecond) // polling a condition
		}
		if err := lock.Rollback(); err != nil {
			t.Fatal(err)
		}
		ans := <-done
		if ans.err != nil || ans.status != http.StatusOK || bytes.Contains(ans.body, []byte(`"errors"`)) {
			t.Fatalf("query: %d %s %v", ans.status, ans.body, ans.err)
		}
		var out struct {
			Data struct {
				People struct {
					Nodes []struct {
						Assignments struct{ Nodes []any }
						Groups      struct{ Nodes []any }
					}
				}
			}
		}
		if err := json.Unmarshal(ans.body, &out); err != nil {
			t.Fatal(err)
		}
		if n := len(out.Data.People.Nodes); n != 3 {
			t.Fatalf("%d people, want 3: %s", n, ans.body)
		}
		for _, p := range out.Data.People.Nodes {
			if len(p.Assignments.Nodes) != 1 || len(p.Groups.Nodes) != 1 {
				t.Fatalf("a person without its assignment or group: %s", ans.body)
			}
		}
		n := groupReads() - beforeGroups
		if least < 0 || n < least {
			least = n
		}
		if after := timerBatches(t, srv); after != beforeTimer && n > 1 {
			t.Logf("a batch waited for its timer: %q before, %q after", beforeTimer, after)
		}
	}
	if least != 1 {
		t.Errorf("the people's groups took %d statements (least of three runs), want 1: "+
			"the field that ran the assignments' batch held back its sibling", least)
	}
}

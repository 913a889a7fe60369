package graph_test

import (
	"bytes"
	"context"
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

// answer is what a request sent in a goroutine of its own got.
type answer struct {
	status int
	body   []byte
	err    error
}

// postAsync sends a GraphQL request in a goroutine of its own (no
// testing.T there); its answer comes on the channel returned. The request
// ends with ctx.
func postAsync(ctx context.Context, url, token, query string, vars map[string]any) <-chan answer {
	done := make(chan answer, 1)
	go func() {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		done <- answer{resp.StatusCode, b, err}
	}()
	return done
}

// lockTable holds an ACCESS EXCLUSIVE lock on table, in a transaction of
// the test's own, until release (or the test's end): the server's reads
// of the table wait for it.
func lockTable(t *testing.T, table string) (release func()) {
	t.Helper()
	lock, err := apitest.DB(t).SQL(t).Begin()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lock.Rollback() })
	if _, err := lock.Exec("LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if err := lock.Rollback(); err != nil {
			t.Fatal(err)
		}
	}
}

// waitUntil polls cond until it holds, and fails the test with what when
// it still does not after a minute.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
	}
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
	groupReads := func() int { return len(stmts.Matching("gm.person_id AS parent")) }

	// A batch can split by timing on a busy machine; the design's count
	// is the least of three runs.
	least := -1
	for range 3 {
		beforeTimer, beforeGroups := timerBatches(t, srv), groupReads()
		release := lockTable(t, "assignments")
		done := postAsync(t.Context(), srv.URL, a.tok, query, nil)
		// The groups are read while the assignments' read waits.
		waitUntil(t, "no read of the people's groups while their assignments' read waited for the lock",
			func() bool { return groupReads() != beforeGroups })
		release()
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

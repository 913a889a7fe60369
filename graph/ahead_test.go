package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"seatgraph/internal/apitest"
	"seatgraph/internal/directory"
	"seatgraph/internal/gid"
)

// TestRootRecordListsReadWithIt: the lists a query selects on a record it
// looks up by id are read at the same time as the record, not after it:
// while the person's read waits (for a lock the test holds, so nothing
// depends on how long a read takes), the reads of the person's
// assignments and groups end. The answer is what it was without: the
// person with its lists. A person who does not exist is null, and the
// lists read for them are not shown.
func TestRootRecordListsReadWithIt(t *testing.T) {
	srv, stmts := patientServer(t)
	tenant := apitest.Tenant("readahead")
	a, _, p := adaWithSuite(t, srv, tenant)
	a.group("Team", p)
	const query = `query($id: ID!) { person(id: $id) { email
		assignments(first: 5) { nodes { license { name } } }
		groups(first: 5) { nodes { name } } } }`
	a.query(query, map[string]any{"id": p}) // warm the query cache and the pool
	lists := func() int {
		return len(stmts.Matching("a.person_id")) + len(stmts.Matching(directory.GroupsOf+" AS parent"))
	}
	before := lists()

	release := lockTable(t, "people")
	done := postAsync(t.Context(), srv.URL, a.tok, query, map[string]any{"id": p})
	waitUntil(t, "the person's assignments and groups were not read while the person's read waited",
		func() bool { return lists() >= before+2 })
	release()
	ans := <-done
	if ans.err != nil || ans.status != http.StatusOK {
		t.Fatalf("query: %d %s %v", ans.status, ans.body, ans.err)
	}
	want := `{"data":{"person":{"email":"ada@` + tenant + `.example","assignments":{"nodes":[{"license":{"name":"Suite"}}]},` +
		`"groups":{"nodes":[{"name":"Team"}]}}}}`
	if string(ans.body) != want {
		t.Fatalf("answer %s, want %s", ans.body, want)
	}

	// Another tenant's person, with a grant and a group of their own, and
	// a person who does not exist: null, whatever was read for them.
	other := newAPI(t, srv, apitest.Tenant("readahead-other"))
	theirs := other.person("bob@elsewhere.example")
	other.assign(other.license("Theirs", 0), map[string]any{"personId": theirs})
	other.group("Their team", theirs)
	for _, id := range []string{theirs, gid.Person.Format([16]byte{1})} {
		if data := a.query(query, map[string]any{"id": id}); data["person"] != nil {
			t.Fatalf("person(id: %s) seen from another tenant: %v", id, data)
		}
	}
}

// TestRootRecordsSideBySide: root fields that look records up by id run
// at once, each reading its record's lists ahead. One that finds no record
// waits for its own lists' reads, not for the others': a record that does
// not exist is null without an error however its siblings' reads
// interleave with it, request after request.
func TestRootRecordsSideBySide(t *testing.T) {
	srv := apitest.NewServer(t)
	a, lic, p := adaWithSuite(t, srv, apitest.Tenant("readahead-side"))
	g := a.group("Team", p)
	var q strings.Builder
	q.WriteString("query($g: ID!, $l: ID!) {")
	for i := range 8 {
		fmt.Fprintf(&q, ` nobody%d: person(id: "%s") { groups(first: 1) { nodes { name } } }`, i, gid.Person.Format([16]byte{byte(i + 1)}))
		fmt.Fprintf(&q, ` team%d: group(id: $g) { members(first: 1) { nodes { email } } }`, i)
		fmt.Fprintf(&q, ` suite%d: license(id: $l) { assignments(first: %d) { nodes { license { name } } } }`, i, i+1)
	}
	q.WriteString(" }")
	vars := map[string]any{"g": g, "l": lic}

	const clients, requests = 4, 50
	failed := make(chan string, clients*requests)
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range requests {
				r := srv.Do(t, a.tok, q.String(), vars)
				if len(r.Errors) > 0 || r.Status != http.StatusOK {
					failed <- string(r.Raw)
					continue
				}
				for i := range 8 {
					if r.Data[fmt.Sprintf("nobody%d", i)] != nil || r.Data[fmt.Sprintf("team%d", i)] == nil || r.Data[fmt.Sprintf("suite%d", i)] == nil {
						failed <- string(r.Raw)
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	close(failed)
	if n := len(failed); n > 0 {
		t.Fatalf("%d of %d answers wrong; the first: %s", n, clients*requests, <-failed)
	}
}

// TestReadAheadEndsWithItsRequest: a list read ahead is a statement of its
// request like any other: when the client goes away, it is cancelled, not
// left on a connection of the pool after the request (here waiting for a
// lock that the test holds until the end, with neither the statement nor
// the lock timeout able to end the wait).
func TestReadAheadEndsWithItsRequest(t *testing.T) {
	srv, _ := patientServer(t)
	a, _, p := adaWithSuite(t, srv, apitest.Tenant("readahead-cancel"))
	const query = `query($id: ID!) { person(id: $id) { email assignments(first: 5) { nodes { id } } } }`
	a.query(query, map[string]any{"id": p}) // warm the query cache and the pool

	lockTable(t, "assignments")
	super := apitest.DB(t).SQL(t)
	waiting := func() int { // the server's reads of the person's grants waiting for the lock
		return sqlInt(t, super, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND usename = 'seatgraph_app' AND wait_event_type = 'Lock' AND query LIKE '%a.person_id%'`)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := postAsync(ctx, srv.URL, a.tok, query, map[string]any{"id": p})
	waitUntil(t, "the person's grants were never read", func() bool { return waiting() == 1 })
	cancel()
	if ans := <-done; ans.err == nil {
		t.Fatal("the request was answered while its read waited for the lock")
	}
	waitUntil(t, "the read of the person's grants still waits for the lock after its request was cancelled",
		func() bool { return waiting() == 0 })
}

// TestRootRecordReadOnce: a person's grants read ahead, with their
// assignees, do not read the person a second time. The person's own read
// keeps them before any grant's field asks; the grants' related records
// leave them out, even while the person's read still waits (for a lock
// the test holds until the grants' licenses are read).
func TestRootRecordReadOnce(t *testing.T) {
	srv, stmts := patientServer(t)
	tenant := apitest.Tenant("readahead-once")
	a, _, p := adaWithSuite(t, srv, tenant)
	const query = `query($id: ID!) { person(id: $id) { email
		assignments(first: 5) { nodes { email license { name } } } } }`
	a.query(query, map[string]any{"id": p}) // warm the query cache and the pool
	people := func() int { return len(stmts.Matching(`FROM "people" AS "p"`, "p.id = ANY")) }
	licenses := func() int { return len(stmts.Matching(`FROM "licenses" AS "l"`, "l.id = ANY")) }
	peopleBefore, licensesBefore := people(), licenses()

	release := lockTable(t, "people")
	done := postAsync(t.Context(), srv.URL, a.tok, query, map[string]any{"id": p})
	waitUntil(t, "the grants' licenses were not read while the person's read waited",
		func() bool { return licenses() != licensesBefore })
	release()
	ans := <-done
	var out struct{ Data map[string]any }
	if err := json.Unmarshal(ans.body, &out); ans.err != nil || err != nil {
		t.Fatalf("query: %d %s %v %v", ans.status, ans.body, ans.err, err)
	}
	data := out.Data
	if got := data["person"].(map[string]any)["assignments"].(map[string]any)["nodes"].([]any); len(got) != 1 ||
		got[0].(map[string]any)["email"] != "ada@"+tenant+".example" {
		t.Fatalf("answer %v", data)
	}
	if n := people() - peopleBefore; n != 1 {
		t.Fatalf("the person was read %d times, want once", n)
	}
}

// patientServer is a server recording its statements whose reads wait
// for a test's lock as long as the test holds it, however slow the
// machine: no timeout of the store's ends the wait.
func patientServer(t *testing.T) (*apitest.Server, *apitest.Statements) {
	stmts := &apitest.Statements{}
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) {
		c.Store.Hooks = append(c.Store.Hooks, stmts)
		c.Store.StatementTimeout = time.Hour
		c.Store.LockTimeout = time.Hour
	})
	return srv, stmts
}

// adaWithSuite makes, in tenant, the person ada@<tenant>.example holding a
// grant of the unlimited license "Suite"; it returns a client of the
// tenant, the license's id and the person's.
func adaWithSuite(t *testing.T, srv *apitest.Server, tenant string) (a *api, license, person string) {
	t.Helper()
	a = newAPI(t, srv, tenant)
	license = a.license("Suite", 0)
	person = a.person("ada@" + tenant + ".example")
	a.assign(license, map[string]any{"personId": person})
	return a, license, person
}

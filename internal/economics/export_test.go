package economics_test

import (
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"seatgraph/internal/apitest"
	"seatgraph/internal/auth"
	"seatgraph/internal/economics"
	"seatgraph/internal/gid"
)

// export GETs /export/assignments.csv with query and returns the status,
// the response and the CSV records (nil when the body is not CSV).
func export(t *testing.T, srv *apitest.Server, token string, query url.Values) (int, *http.Response, [][]string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/export/assignments.csv?"+query.Encode(), nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		return resp.StatusCode, resp, nil
	}
	recs, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		t.Fatalf("the export is not RFC 4180 CSV: %v", err)
	}
	return resp.StatusCode, resp, recs
}

// TestExportAssignments: the CSV has the documented columns, every
// hostile value comes back as the text it was (quoted where needed, and
// with a leading apostrophe where a spreadsheet would run it as a
// formula), the filters mirror AssignmentFilter, and the credentials and
// scopes are those of the API.
func TestExportAssignments(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("export")
	c := newClient(t, srv, tenant)

	hostile := []string{`=HYPERLINK("http://evil.example","x")`, "+1+1", "-2+3", "@SUM(A1:A2)", "\tTabbed", "\rReturned",
		`say "hi", then go`, "two\nlines", "plain", "ünïcödé, ✓"}
	lic := c.license(map[string]any{"name": hostile[0], "programKey": hostile[1], "totalSeats": 50})
	other := c.license(map[string]any{"name": "Other"})
	var asgs []string
	for i, name := range hostile {
		p := c.mutate("createPerson", "CreatePersonInput", "person { id }", map[string]any{"email": strings.Repeat("x", i+1) + "@e.example",
			"name": name, "username": hostile[(i+3)%len(hostile)]})["person"].(map[string]any)["id"].(string)
		asgs = append(asgs, c.assign(map[string]any{"licenseId": lic, "personId": p, "assetId": hostile[(i+5)%len(hostile)]}))
	}
	inv := c.assign(map[string]any{"licenseId": other, "email": "invited@e.example"})
	c.mutate("revokeAssignment", "RevokeAssignmentInput", "assignment { id }", map[string]any{"id": asgs[1], "reason": hostile[2]})

	status, resp, recs := export(t, srv, c.tok, nil)
	if status != http.StatusOK || recs == nil {
		t.Fatalf("export: %d %v", status, resp.Header)
	}
	if !slices.Equal(recs[0], economics.ExportColumns) {
		t.Fatalf("header %v, want %v", recs[0], economics.ExportColumns)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "assignments.csv") {
		t.Errorf("Content-Disposition %q", cd)
	}
	col := func(name string) int { return slices.Index(economics.ExportColumns, name) }
	// What a spreadsheet shows is the value itself: escaped cells start with
	// an apostrophe followed by exactly the original text.
	shown := func(cell string) string {
		if strings.HasPrefix(cell, "'") && len(cell) > 1 && strings.ContainsRune("=+-@\t\r", rune(cell[1])) {
			return cell[1:]
		}
		return cell
	}
	byID := map[string][]string{}
	for _, r := range recs[1:] {
		if len(r) != len(economics.ExportColumns) {
			t.Fatalf("row of %d cells: %v", len(r), r)
		}
		for i, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("column %s: cell %q would run as a formula", economics.ExportColumns[i], cell)
			}
		}
		byID[r[col("id")]] = r
	}
	if len(byID) != len(hostile)+1 {
		t.Fatalf("%d rows, want %d", len(byID), len(hostile)+1)
	}
	ids := slices.Sorted(func(yield func(string) bool) {
		for _, r := range recs[1:] {
			if !yield(r[col("id")]) {
				return
			}
		}
	})
	for i := range recs[1:] {
		if recs[i+1][col("id")] != ids[i] {
			t.Fatalf("rows are not in id order")
		}
	}
	for i, id := range asgs {
		r := byID[id]
		want := map[string]string{"license_id": lic, "license_name": hostile[0], "program_key": hostile[1], "name": hostile[i],
			"username": hostile[(i+3)%len(hostile)], "asset_id": hostile[(i+5)%len(hostile)], "assignee_type": "PERSON",
			"email": strings.Repeat("x", i+1) + "@e.example", "status": "ACTIVE", "direct": "true", "deleted": "false"}
		if i == 1 {
			want["status"], want["revoke_reason"] = "REVOKED", hostile[2]
		}
		for k, v := range want {
			if got := shown(r[col(k)]); got != v {
				t.Errorf("assignment %d, %s = %q, want %q", i, k, got, v)
			}
		}
		if _, err := time.Parse(time.RFC3339, r[col("assigned_at")]); err != nil {
			t.Errorf("assigned_at %q: %v", r[col("assigned_at")], err)
		}
	}
	if r := byID[inv]; r[col("assignee_type")] != "EMAIL" || r[col("email")] != "invited@e.example" || r[col("status")] != "PENDING" {
		t.Errorf("invitation row %v", r)
	}

	// Filters, as AssignmentFilter's fields.
	for _, f := range []struct {
		q    url.Values
		want int
	}{
		{url.Values{"licenseIds": {other}}, 1},
		{url.Values{"licenseIds": {lic + "," + other}}, len(hostile) + 1},
		{url.Values{"status": {"REVOKED"}}, 1},
		{url.Values{"status": {"ACTIVE,PENDING"}}, len(hostile)},
		{url.Values{"status": {"ACTIVE"}, "licenseIds": {lic}}, len(hostile) - 1},
		{url.Values{"assigneeType": {"EMAIL"}}, 1},
		{url.Values{"email": {"INVITED@e.example"}}, 1},
		{url.Values{"neverUsed": {"true"}}, len(hostile) + 1},
		{url.Values{"assignedAfter": {time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}}, 0},
	} {
		status, _, recs := export(t, srv, c.tok, f.q)
		if status != http.StatusOK || len(recs)-1 != f.want {
			t.Errorf("export?%s: %d, %d rows, want %d", f.q.Encode(), status, len(recs)-1, f.want)
		}
	}

	// Same walls as the API: credentials, scope, admin for deleted rows,
	// clear refusals of bad filters, and other tenants' and apps' rows unseen.
	for _, bad := range []struct {
		token  string
		q      url.Values
		status int
		code   string
	}{
		{"", nil, http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"not-a-token", nil, http.StatusUnauthorized, "UNAUTHENTICATED"},
		{apitest.Token(t, tenant, auth.ScopeDirectoryRead), nil, http.StatusForbidden, "FORBIDDEN"},
		{apitest.Token(t, tenant, auth.ScopeLicensesRead), url.Values{"includeDeleted": {"true"}}, http.StatusForbidden, "FORBIDDEN"},
		{c.tok, url.Values{"status": {"BOGUS"}}, http.StatusBadRequest, "BAD_USER_INPUT"},
		{c.tok, url.Values{"licenseIds": {"per_nope"}}, http.StatusBadRequest, "BAD_USER_INPUT"},
		{c.tok, url.Values{"active": {"yes"}}, http.StatusBadRequest, "BAD_USER_INPUT"},
		{c.tok, url.Values{"assignedAfter": {"yesterday"}}, http.StatusBadRequest, "BAD_USER_INPUT"},
		{c.tok, url.Values{"licenceIds": {lic}}, http.StatusBadRequest, "BAD_USER_INPUT"},
		{c.tok, url.Values{"email": {"a@b.example", "c@d.example"}}, http.StatusBadRequest, "BAD_USER_INPUT"},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/export/assignments.csv?"+bad.q.Encode(), nil)
		if bad.token != "" {
			req.Header.Set("Authorization", "Bearer "+bad.token)
		}
		r := srv.Send(t, req)
		if r.Status != bad.status || len(r.Codes()) != 1 || r.Codes()[0] != bad.code {
			t.Errorf("export?%s: %d %s, want %d %s", bad.q.Encode(), r.Status, r.Raw, bad.status, bad.code)
		}
	}
	if status, _, recs := export(t, srv, apitest.Token(t, tenant, auth.ScopeAdmin), url.Values{"includeDeleted": {"true"}}); status != 200 || len(recs) != len(hostile)+2 {
		t.Errorf("admin includeDeleted: %d, %d rows", status, len(recs))
	}
	if _, _, recs := export(t, srv, apitest.Token(t, apitest.Tenant("export-other")), nil); len(recs) != 1 {
		t.Errorf("another tenant exports %d rows", len(recs)-1)
	}
	app := "app-one"
	if _, _, recs := export(t, srv, apitest.TokenFor(t, auth.TokenRequest{Tenant: tenant, Subject: "svc", App: app}), nil); len(recs) != 1 {
		t.Errorf("an application that wrote nothing exports %d rows", len(recs)-1)
	}
}

// TestExportMemory exports 100,000 assignments and samples the process's
// heap while it streams: the peak stays a small constant, far below the
// size of the file. (A test of memory, not of time.)
func TestExportMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("100k rows")
	}
	const rows = 100_000
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("export-big")
	c := newClient(t, srv, tenant)
	lic := c.license(map[string]any{"name": "Big"})
	licID, _ := gid.License.Parse(lic)
	super := apitest.DB(t).SQL(t)
	// Rows written straight (the seat trigger off for speed: this test is
	// about the export, not the counters).
	tx, err := super.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"SET LOCAL session_replication_role = replica",
		`INSERT INTO assignments (tenant_id, id, license_id, email, assigned_by, fulfilled, metadata, created_by, updated_by, revoke_reason)
		 SELECT $1, gen_random_uuid(), $2, 'user' || i || '@big.example', 'seed', false, '{}', 'seed', 'seed',
		        repeat('reason ', 20) || i
		 FROM generate_series(1, 100000) AS i`} {
		args := []any{tenant, licID}
		if strings.HasPrefix(q, "SET") {
			args = nil
		}
		if _, err := tx.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// As autovacuum would, before the planner sees the new rows.
	if _, err := super.Exec("ANALYZE assignments"); err != nil {
		t.Fatal(err)
	}

	// The collector runs often during the export (GOGC 10), so that the
	// heap measures what the export keeps, not garbage a busy machine's
	// collector has not got to yet.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
		}
	}()

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/export/assignments.csv", nil)
	req.Header.Set("Authorization", "Bearer "+c.tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	counted := &countingReader{r: resp.Body}
	r := csv.NewReader(counted)
	r.ReuseRecord = true
	n := 0
	for {
		_, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	resp.Body.Close()
	close(stop)
	wg.Wait()

	if n != rows+1 {
		t.Fatalf("exported %d records, want a header and %d rows", n, rows)
	}
	grew := int64(peak.Load()) - int64(base)
	t.Logf("exported %d rows, %.1f MB of CSV; heap at start %.1f MB, peak %.1f MB (+%.1f MB)",
		rows, mb(counted.n), mb(int64(base)), mb(int64(peak.Load())), mb(grew))
	// An export that held its output (or its rows) would grow by at least
	// the CSV's size; a streaming one by its page buffers and the
	// garbage the collector has not reclaimed yet (seen: +5 to +9 MB on a
	// loaded machine). Half the CSV separates the two with room.
	const bound = 32 << 20
	if grew > bound || grew*2 > counted.n {
		t.Errorf("the heap grew by %.1f MB exporting %.1f MB: the export is not streaming in constant memory", mb(grew), mb(counted.n))
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

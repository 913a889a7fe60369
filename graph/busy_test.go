package graph_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"seatgraph/internal/apitest"
)

// TestWriteThatCannotGetItsTurn: a write waiting for a license that
// another transaction holds gives up after the lock timeout (and one
// retry) with a retryable answer, HTTP 503 SERVICE_UNAVAILABLE and
// Retry-After, and changes nothing; once the lock is free it succeeds.
func TestWriteThatCannotGetItsTurn(t *testing.T) {
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) { c.Store.LockTimeout = 100 * time.Millisecond })
	tenant := apitest.Tenant("busy")
	a := newAPI(t, srv, tenant)
	lic := a.license("Busy", 5)
	ada := a.person("ada@busy.example")
	db := apitest.DB(t).SQL(t)

	// Another transaction holds the license's row lock, as a long writer would.
	ctx := context.Background()
	holder, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback() //nolint:errcheck
	if _, err := holder.ExecContext(ctx, `SELECT 1 FROM licenses WHERE tenant_id = $1 FOR UPDATE`, tenant); err != nil {
		t.Fatal(err)
	}

	const assign = `mutation($input: AssignLicenseInput!) { assignLicense(input: $input) { assignment { id } userErrors { code } } }`
	in := map[string]any{"input": map[string]any{"licenseId": lic, "personId": ada}}
	r := srv.Do(t, a.tok, assign, in)
	if r.Status != http.StatusServiceUnavailable || len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "SERVICE_UNAVAILABLE" {
		t.Fatalf("got %d %s, want 503 with one SERVICE_UNAVAILABLE error", r.Status, r.Raw)
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s <= 0 {
		t.Errorf("Retry-After %q, want a number of seconds", r.Header.Get("Retry-After"))
	}
	if n := sqlInt(t, db, `SELECT count(*) FROM assignments WHERE tenant_id = $1`, tenant); n != 0 {
		t.Errorf("%d assignments written by a write that failed", n)
	}

	if err := holder.Rollback(); err != nil {
		t.Fatal(err)
	}
	a.assign(lic, map[string]any{"personId": ada})
	if used := num(a.seats(lic)["used"]); used != 1 {
		t.Errorf("after the lock was freed the write took %d seats, want 1", used)
	}
}

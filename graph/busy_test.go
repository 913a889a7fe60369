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

// TestBusyAfterACommittedWrite: in a document whose first mutation
// committed and whose second could not get its turn, the answer is not a
// 503 (a client would retry the whole document and write the first one
// twice) but a 200 with the second's SERVICE_UNAVAILABLE error; later
// mutations of the document do not run.
func TestBusyAfterACommittedWrite(t *testing.T) {
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) { c.Store.LockTimeout = 100 * time.Millisecond })
	tenant := apitest.Tenant("busy2")
	a := newAPI(t, srv, tenant)
	lic := a.license("Busy", 5)
	ada := a.person("ada@busy2.example")
	db := apitest.DB(t).SQL(t)

	ctx := context.Background()
	holder, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback() //nolint:errcheck
	if _, err := holder.ExecContext(ctx, `SELECT 1 FROM licenses WHERE tenant_id = $1 AND name = 'Busy' FOR UPDATE`, tenant); err != nil {
		t.Fatal(err)
	}

	const doc = `mutation($first: CreateLicenseInput!, $second: AssignLicenseInput!, $third: CreateLicenseInput!) {
		first: createLicense(input: $first) { license { id } }
		second: assignLicense(input: $second) { assignment { id } }
		third: createLicense(input: $third) { license { id } }
	}`
	r := srv.Do(t, a.tok, doc, map[string]any{
		"first":  map[string]any{"name": "First", "vendor": "Acme"},
		"second": map[string]any{"licenseId": lic, "personId": ada},
		"third":  map[string]any{"name": "Third", "vendor": "Acme"},
	})
	if r.Status != http.StatusOK {
		t.Errorf("status %d (%s), want 200: the first mutation committed", r.Status, r.Raw)
	}
	var second bool
	for _, e := range r.Errors {
		if e.Extensions["code"] == "SERVICE_UNAVAILABLE" && len(e.Path) > 0 && e.Path[0] == "second" {
			second = true
		}
	}
	if !second {
		t.Errorf("errors %s, want a SERVICE_UNAVAILABLE at second", r.Raw)
	}
	if err := holder.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n := sqlInt(t, db, `SELECT count(*) FROM licenses WHERE tenant_id = $1 AND name = 'First'`, tenant); n != 1 {
		t.Errorf("%d licenses named First, want 1 (the first mutation committed)", n)
	}
	if n := sqlInt(t, db, `SELECT count(*) FROM licenses WHERE tenant_id = $1 AND name = 'Third'`, tenant); n != 0 {
		t.Errorf("%d licenses named Third, want 0 (no mutation runs after one that could not get its turn)", n)
	}
}

package graph_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"seatgraph/internal/apitest"
	"seatgraph/internal/licensing"
	"seatgraph/internal/store"
)

// TestReclaimSkipsSeatUsedDuringRun: a usage committed while the reclaim
// job waits for the seat's row lock is seen by the job. The job locks the
// seats it warns (FOR UPDATE OF a) and PostgreSQL re-checks a locked row's
// conditions on its newest version, but only on the locked table's
// (assignments): a condition on the joined assignment_use row is checked
// on the row as the job's snapshot saw it. So the seat, used now, must not
// be warned as unused for 30 days.
func TestReclaimSkipsSeatUsedDuringRun(t *testing.T) {
	srv := apitest.NewServer(t)
	e := newReclaimEnv(t, srv, "reclaim-race")
	lic := e.license("Miro", 5)
	seat := e.grant(lic, e.person("racer@example.com"))
	e.unusedFor(seat, 40)
	e.policy(lic, map[string]any{"inactiveDays": 30, "graceDays": 7, "action": "REVOKE"})
	sameIDs(t, "warn before the use", e.plan(lic)["warn"], []string{seat})

	// An agent's usage, in flight: its transaction holds the grant's row
	// (as recordUsages' FOR NO KEY UPDATE and UPDATE do) until it commits.
	ctx := context.Background()
	tx, err := e.super.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	apitest.SetTenant(t, tx, e.tenant)
	if _, err := tx.Exec(`UPDATE assignments SET last_used_at = now() WHERE tenant_id = $1 AND id = $2`,
		e.tenant, uuidOf(t, seat)); err != nil {
		t.Fatal(err)
	}
	// Who holds the lock, and who waits for it: on Citus the lock is taken
	// and waited for on a worker, and known by global pids.
	holder, waiting := `SELECT pg_backend_pid()`, `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`
	d := apitest.DB(t)
	if d.Citus() {
		holder, waiting = `SELECT citus_backend_gpid()`, `SELECT count(*) FROM citus_lock_waits WHERE blocking_gpid = $1`
	}
	var usagePID int64
	if err := tx.QueryRow(holder).Scan(&usagePID); err != nil {
		t.Fatal(err)
	}

	// The job's own pool waits for locks far longer than this test needs
	// to see it wait and commit, however loaded the machine.
	jobDB := d.OpenWith(t, d.AppURL, store.Options{LockTimeout: 2 * time.Minute, StatementTimeout: 3 * time.Minute})
	done := make(chan error, 1)
	go func() {
		for {
			_, err := licensing.ReclaimDue(ctx, jobDB)
			if errors.Is(err, licensing.ErrLeaseHeld) {
				time.Sleep(20 * time.Millisecond) // another run holds the lease
				continue
			}
			done <- err
			return
		}
	}()
	// Wait (on the condition, not a time) until the job waits for the
	// usage's lock, then commit the usage.
	for blocked := 0; blocked == 0; {
		select {
		case err := <-done:
			t.Fatalf("the reclaim run ended (%v) without waiting for the seat's lock", err)
		default:
		}
		blocked = sqlInt(t, e.super, waiting, usagePID)
		if blocked == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("ReclaimDue: %v", err)
	}

	if h := e.history(seat); slices.ContainsFunc(h, func(s string) bool { return strings.HasPrefix(s, "RECLAIM_WARNING") }) {
		t.Errorf("a seat used during the run was warned as unused for 30 days: history %v", h)
	}
	if n := sqlInt(t, e.super, `SELECT count(*) FROM reclaim_warnings WHERE tenant_id = $1`, e.tenant); n != 0 {
		t.Errorf("%d pending warnings, want none: the seat was just used", n)
	}
}

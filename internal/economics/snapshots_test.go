package economics_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"seatgraph/internal/apitest"
	"seatgraph/internal/economics"
	"seatgraph/internal/gid"
	"seatgraph/internal/lease"
)

// dbToday is the database's UTC day.
func dbToday(t *testing.T, db *sql.DB) time.Time {
	t.Helper()
	var d time.Time
	if err := db.QueryRow("SELECT (now() AT TIME ZONE 'UTC')::date").Scan(&d); err != nil {
		t.Fatal(err)
	}
	return d.UTC()
}

type snap struct{ total, used, pending, waitlisted, active int }

// snapshots reads a license's snapshot rows by day, as the superuser.
func snapshots(t *testing.T, db *sql.DB, tenant, license string) map[string]snap {
	t.Helper()
	id, _ := gid.License.Parse(license)
	rows, err := db.Query(`SELECT day, coalesce(seats_total, -1), seats_used, seats_pending, seats_waitlisted, holders_active
		FROM license_snapshots WHERE tenant_id = $1 AND license_id = $2`, tenant, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]snap{}
	for rows.Next() {
		var d time.Time
		var s snap
		if err := rows.Scan(&d, &s.total, &s.used, &s.pending, &s.waitlisted, &s.active); err != nil {
			t.Fatal(err)
		}
		out[d.Format(time.DateOnly)] = s
	}
	return out
}

func insertSnapshot(t *testing.T, db *sql.DB, tenant, license string, day time.Time, s snap) {
	t.Helper()
	id, _ := gid.License.Parse(license)
	var total any = s.total
	if s.total < 0 {
		total = nil
	}
	if _, err := db.Exec(`INSERT INTO license_snapshots (tenant_id, license_id, day, seats_total, seats_used, seats_pending,
		seats_waitlisted, holders_active, taken_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $3::date + time '12:00')`,
		tenant, id, day.Format(time.DateOnly), total, s.used, s.pending, s.waitlisted, s.active); err != nil {
		t.Fatal(err)
	}
}

// TestSnapshotJob: the job records today's counters, fills the days it
// missed with the last snapshot before them, is idempotent within a day
// (a later run only refreshes today's row), skips deleted licenses, and
// runs on one replica at a time (a job lease held elsewhere stops it).
func TestSnapshotJob(t *testing.T) {
	ctx := context.Background()
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("snap")
	c := newClient(t, srv, tenant)
	super := apitest.DB(t).SQL(t)
	day := dbToday(t, super)

	lic := c.license(map[string]any{"name": "Snap", "totalSeats": 5})
	gone := c.license(map[string]any{"name": "Gone", "totalSeats": 5})
	c.mutate("deleteLicense", "DeleteLicenseInput", "license { id }", map[string]any{"id": gone})
	a, b := c.person("a@snap.example"), c.person("b@snap.example")
	c.assign(map[string]any{"licenseId": lic, "personId": a})
	c.assign(map[string]any{"licenseId": lic, "personId": b})
	c.assign(map[string]any{"licenseId": lic, "email": "invited@snap.example"})
	c.mutate("recordUsage", "RecordUsageInput", "updated", map[string]any{"licenseId": lic, "personId": a})
	c.mutate("recordUsage", "RecordUsageInput", "updated", map[string]any{"licenseId": lic, "personId": b,
		"usedAt": time.Now().Add(-31 * 24 * time.Hour).UTC().Format(time.RFC3339)})

	// The job last ran four days ago.
	old := snap{total: 4, used: 1, pending: 0, waitlisted: 2, active: 1}
	insertSnapshot(t, super, tenant, lic, day.AddDate(0, 0, -4), old)

	if _, err := economics.SnapshotTenant(ctx, srv.DB, tenant); err != nil {
		t.Fatal(err)
	}
	got := snapshots(t, super, tenant, lic)
	live := snap{total: 5, used: 3, pending: 1, waitlisted: 0, active: 1} // a used today; b 31 days ago; the invitation never
	want := map[string]snap{day.Format(time.DateOnly): live}
	for i := 1; i <= 4; i++ {
		want[day.AddDate(0, 0, -i).Format(time.DateOnly)] = old
	}
	if !equalSnaps(got, want) {
		t.Errorf("after the run:\n got %v\nwant %v", got, want)
	}
	if n := len(snapshots(t, super, tenant, gone)); n != 0 {
		t.Errorf("a deleted license got %d snapshots", n)
	}

	// Again the same day: nothing new; the same rows.
	if _, err := economics.SnapshotTenant(ctx, srv.DB, tenant); err != nil {
		t.Fatal(err)
	}
	if again := snapshots(t, super, tenant, lic); !equalSnaps(again, want) {
		t.Errorf("a second run changed the rows: %v", again)
	}

	// Counters move: today's row follows them, the past stays.
	c.assign(map[string]any{"licenseId": lic, "personId": c.person("c@snap.example")})
	if _, err := economics.SnapshotTenant(ctx, srv.DB, tenant); err != nil {
		t.Fatal(err)
	}
	live.used++
	want[day.Format(time.DateOnly)] = live
	if after := snapshots(t, super, tenant, lic); !equalSnaps(after, want) {
		t.Errorf("after a new seat:\n got %v\nwant %v", after, want)
	}

	// Another replica holds the lease: this one does nothing.
	fresh := c.license(map[string]any{"name": "Fresh", "totalSeats": 1})
	if _, err := super.Exec(`INSERT INTO job_leases (job, holder, taken_at, expires_at)
		VALUES ('snapshots', 'another replica', now(), now() + interval '1 hour')`); err != nil {
		t.Fatal(err)
	}
	if n, err := economics.TakeSnapshots(ctx, srv.DB); !errors.Is(err, lease.ErrHeld) || n != 0 {
		t.Errorf("with the lease held elsewhere: wrote %d rows, %v; want 0, lease.ErrHeld", n, err)
	}
	if n := len(snapshots(t, super, tenant, fresh)); n != 0 {
		t.Errorf("the job ran while another replica held the lease (%d rows)", n)
	}
	// Once that lease has expired, the job runs, and gives its lease back.
	if _, err := super.Exec(`UPDATE job_leases SET taken_at = now() - interval '2 hours', expires_at = now() - interval '1 hour'`); err != nil {
		t.Fatal(err)
	}
	if n, err := economics.TakeSnapshots(ctx, srv.DB); err != nil || n == 0 {
		t.Errorf("with the lease expired: wrote %d rows, %v", n, err)
	}
	if n := len(snapshots(t, super, tenant, fresh)); n != 1 {
		t.Errorf("after the run, the new license has %d snapshots, want 1", n)
	}
	var leases int
	if err := super.QueryRow("SELECT count(*) FROM job_leases WHERE job = 'snapshots'").Scan(&leases); err != nil || leases != 0 {
		t.Errorf("%d leases left after the run (%v)", leases, err)
	}
}

func equalSnaps(a, b map[string]snap) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

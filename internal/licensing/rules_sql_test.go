package licensing_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"seatgraph/internal/apitest"
	"seatgraph/internal/licensing"
	"seatgraph/models"
)

// superTx is a transaction as the superuser on the package database (no
// row-level security: these tests write rows of made-up tenants), rolled
// back when the test ends, and the database's now() in it.
func superTx(t *testing.T) (*sql.Tx, time.Time) {
	t.Helper()
	db, err := sql.Open("pgx", apitest.DB(t).SuperURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback() })
	var now time.Time
	if err := tx.QueryRow("SELECT now()").Scan(&now); err != nil {
		t.Fatal(err)
	}
	return tx, now
}

// times are the values a nullable time column takes in the combinations:
// unset, past, exactly the statement's now, ahead.
func times(now time.Time) []*time.Time {
	past, future := now.Add(-24*time.Hour), now.Add(24*time.Hour)
	return []*time.Time{nil, &past, &now, &future}
}

// TestStatusAgreesWithSQL proves Status and statusSQL give the same
// status for every combination of the columns they read.
func TestStatusAgreesWithSQL(t *testing.T) {
	tx, now := superTx(t)
	set := []*time.Time{nil, ptr(now.Add(-time.Hour))}
	q := `SELECT ` + licensing.StatusSQL + ` FROM (VALUES ($1::timestamptz, $2::boolean, $3::timestamptz, $4::timestamptz,
		$5::timestamptz, $6::boolean, $7::boolean, $9::timestamptz))
		AS a(revoked_at, is_deleted, expired_at, expires_at, waitlisted_at, active, fulfilled, deactivated_at),
		(VALUES ($8::timestamptz)) AS l(expires_at)`
	n := 0
	for _, revoked := range set {
		for _, deleted := range []bool{false, true} {
			for _, expired := range set {
				for _, ends := range times(now) {
					for _, licenseEnds := range times(now) {
						for _, waiting := range set {
							for _, active := range []bool{false, true} {
								for _, fulfilled := range []bool{false, true} {
									for _, deactivated := range set {
										a := &models.Assignment{Record: models.Record{IsDeleted: deleted}, RevokedAt: revoked,
											ExpiredAt: expired, ExpiresAt: ends, WaitlistedAt: waiting, Active: active,
											Fulfilled: fulfilled, LicenseExpiresAt: licenseEnds, DeactivatedAt: deactivated}
										var got string
										err := tx.QueryRow(q, revoked, deleted, expired, ends, waiting, active, fulfilled, licenseEnds,
											deactivated).Scan(&got)
										if err != nil {
											t.Fatal(err)
										}
										if want := licensing.Status(a, now); got != string(want) {
											t.Errorf("%s: statusSQL = %s, Status = %s", describe(a, now), got, want)
										}
										n++
									}
								}
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d combinations agree", n)
}

// TestLiveAgreesWithSQL proves Live and liveSQL agree.
func TestLiveAgreesWithSQL(t *testing.T) {
	tx, now := superTx(t)
	set := []*time.Time{nil, ptr(now.Add(-time.Hour))}
	q := `SELECT ` + licensing.LiveSQL + ` FROM (VALUES ($1::boolean, $2::timestamptz, $3::timestamptz))
		AS a(is_deleted, revoked_at, expired_at)`
	for _, deleted := range []bool{false, true} {
		for _, revoked := range set {
			for _, expired := range set {
				a := &models.Assignment{Record: models.Record{IsDeleted: deleted}, RevokedAt: revoked, ExpiredAt: expired}
				var got bool
				if err := tx.QueryRow(q, deleted, revoked, expired).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if want := licensing.Live(a); got != want {
					t.Errorf("%s: liveSQL = %v, Live = %v", describe(a, now), got, want)
				}
			}
		}
	}
}

// TestEndedAgreesWithSQL proves Ended and endedSQL agree.
func TestEndedAgreesWithSQL(t *testing.T) {
	tx, now := superTx(t)
	for _, end := range times(now) {
		var got sql.NullBool
		cond := strings.Replace(licensing.EndedSQL("e.at"), "?", "$2", 1)
		err := tx.QueryRow(`SELECT `+cond+` FROM (VALUES ($1::timestamptz)) AS e(at)`, end, now).Scan(&got)
		if err != nil {
			t.Fatal(err)
		}
		if want := licensing.Ended(end, now); got.Bool != want {
			t.Errorf("end %v: endedSQL = %v, Ended = %v", end, got.Bool, want)
		}
	}
}

// TestHoldsSeatAgreesWithTrigger proves holdsSeat and the seat trigger
// (which keeps the license counters) agree for every combination of the
// columns that decide who holds a seat, and of the grant's and its
// license's ends: each combination is the one grant of a license of its
// own, inserted as it is, and the license's counters must say what
// holdsSeat says (and waitlisted what the stored waitlist says).
func TestHoldsSeatAgreesWithTrigger(t *testing.T) {
	tx, now := superTx(t)
	const tenant = "rules-agreement"
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := tx.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	person, group := uuid.New(), uuid.New()
	exec(`INSERT INTO people (tenant_id, id, email, created_by, updated_by) VALUES ($1, $2, 'p@example.com', 't', 't')`, tenant, person)
	exec(`INSERT INTO groups (tenant_id, id, name, created_by, updated_by) VALUES ($1, $2, 'g', 't', 't')`, tenant, group)
	set := []*time.Time{nil, ptr(now.Add(-time.Hour))}
	n := 0
	for _, kind := range []models.AssigneeType{models.AssigneePerson, models.AssigneeGroup, models.AssigneeEmail} {
		for _, deleted := range []bool{false, true} {
			for _, revoked := range set {
				for _, expired := range set {
					for _, waiting := range set {
						for _, active := range []bool{false, true} {
							for _, fulfilled := range []bool{false, true} {
								for _, ends := range times(now) {
									for _, licenseEnds := range times(now) {
										for _, deactivated := range set {
											a := &models.Assignment{Record: models.Record{TenantID: tenant, ID: uuid.New(), IsDeleted: deleted},
												LicenseID: uuid.New(), RevokedAt: revoked, ExpiredAt: expired, WaitlistedAt: waiting,
												Active: active, Fulfilled: fulfilled, ExpiresAt: ends, LicenseExpiresAt: licenseEnds,
												DeactivatedAt: deactivated}
											var p, g, email any
											switch kind {
											case models.AssigneePerson:
												a.PersonID, p = &person, person
											case models.AssigneeGroup:
												a.GroupID, g = &group, group
											default:
												email = "invited@example.com"
											}
											exec(`INSERT INTO licenses (tenant_id, id, name, expires_at, created_by, updated_by)
										VALUES ($1, $2, 'l', $3, 't', 't')`, tenant, a.LicenseID, licenseEnds)
											exec(`INSERT INTO assignments (tenant_id, id, license_id, person_id, group_id, email, assigned_by,
										is_deleted, revoked_at, expired_at, waitlisted_at, active, fulfilled, expires_at, deactivated_at,
										created_by, updated_by)
										VALUES ($1, $2, $3, $4, $5, $6, 't', $7, $8, $9, $10, $11, $12, $13, $14, 't', 't')`,
												tenant, a.ID, a.LicenseID, p, g, email, deleted, revoked, expired, waiting, active, fulfilled, ends,
												deactivated)
											var used, pending, waitlisted int
											err := tx.QueryRow(`SELECT seats_used, seats_pending, seats_waitlisted FROM licenses
										WHERE tenant_id = $1 AND id = $2`, tenant, a.LicenseID).Scan(&used, &pending, &waitlisted)
											if err != nil {
												t.Fatal(err)
											}
											holds := licensing.HoldsSeat(a)
											var holdsSQL bool
											if err := tx.QueryRow(`SELECT `+licensing.HoldsSeatSQL+` FROM assignments a
										WHERE a.tenant_id = $1 AND a.id = $2`, tenant, a.ID).Scan(&holdsSQL); err != nil {
												t.Fatal(err)
											}
											if holdsSQL != holds {
												t.Errorf("%s %s: HoldsSeatSQL = %v, HoldsSeat = %v", kind, describe(a, now), holdsSQL, holds)
											}
											waits := licensing.Live(a) && a.WaitlistedAt != nil && a.DeactivatedAt == nil
											if (used == 1) != holds || (pending == 1) != (holds && !fulfilled) || (waitlisted == 1) != waits {
												t.Errorf("%s %s: trigger counts used %d, pending %d, waitlisted %d; HoldsSeat = %v, waitlisted = %v",
													kind, describe(a, now), used, pending, waitlisted, holds, waits)
											}
											n++
										}
									}
								}
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d combinations agree", n)
}

// TestFreeAgreesWithSQL proves Free and hasFreeSQL agree.
func TestFreeAgreesWithSQL(t *testing.T) {
	tx, _ := superTx(t)
	for _, total := range []*int{nil, ptr(0), ptr(3)} {
		for _, used := range []int{0, 2, 3, 4} {
			var got bool
			err := tx.QueryRow(`SELECT `+licensing.HasFreeSQL+` FROM (VALUES ($1::integer, $2::integer)) AS l(total_seats, seats_used)`,
				total, used).Scan(&got)
			if err != nil {
				t.Fatal(err)
			}
			free := (&models.License{TotalSeats: total, SeatsUsed: used}).Free()
			if want := free == nil || *free > 0; got != want {
				t.Errorf("total %v, used %d: hasFreeSQL = %v, Free = %v", total, used, got, free)
			}
		}
	}
}

func describe(a *models.Assignment, now time.Time) string {
	at := func(t *time.Time) string {
		switch {
		case t == nil:
			return "-"
		case t.Before(now):
			return "past"
		case t.Equal(now):
			return "now"
		}
		return "ahead"
	}
	return fmt.Sprintf("{deleted %v revoked %s expiredAt %s expiresAt %s licenseExpires %s waitlisted %s deactivated %s active %v fulfilled %v}",
		a.IsDeleted, at(a.RevokedAt), at(a.ExpiredAt), at(a.ExpiresAt), at(a.LicenseExpiresAt), at(a.WaitlistedAt),
		at(a.DeactivatedAt), a.Active, a.Fulfilled)
}

func ptr[T any](v T) *T { return &v }

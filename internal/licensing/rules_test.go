package licensing

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"seatgraph/models"
)

var (
	now    = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	past   = now.Add(-time.Hour)
	future = now.Add(time.Hour)
)

func TestStatusPrecedence(t *testing.T) {
	id := uuid.New()
	cases := []struct {
		name string
		a    models.Assignment
		want models.Status
	}{
		{"a fresh grant", models.Assignment{Active: true, Fulfilled: true}, models.StatusActive},
		{"an invitation", models.Assignment{Active: true}, models.StatusPending},
		{"suspended before pending", models.Assignment{}, models.StatusSuspended},
		{"waitlisted before suspended", models.Assignment{WaitlistedAt: &past}, models.StatusWaitlisted},
		{"its own end passed", models.Assignment{Active: true, Fulfilled: true, ExpiresAt: &past}, models.StatusExpired},
		{"its end exactly now", models.Assignment{Active: true, Fulfilled: true, ExpiresAt: &now}, models.StatusExpired},
		{"its end ahead", models.Assignment{Active: true, Fulfilled: true, ExpiresAt: &future}, models.StatusActive},
		{"the license ended", models.Assignment{Active: true, Fulfilled: true, LicenseExpiresAt: &past}, models.StatusExpired},
		{"ended by the job", models.Assignment{Active: true, Fulfilled: true, ExpiredAt: &past}, models.StatusExpired},
		{"expired before waitlisted", models.Assignment{WaitlistedAt: &past, ExpiresAt: &past}, models.StatusExpired},
		{"a deactivated person's grant", models.Assignment{Active: true, Fulfilled: true, DeactivatedAt: &past}, models.StatusDeactivated},
		{"deactivated before waitlisted", models.Assignment{WaitlistedAt: &past, DeactivatedAt: &past}, models.StatusDeactivated},
		{"deactivated before suspended", models.Assignment{Fulfilled: true, DeactivatedAt: &past}, models.StatusDeactivated},
		{"expired before deactivated", models.Assignment{ExpiresAt: &past, DeactivatedAt: &past}, models.StatusExpired},
		{"revoked before deactivated", models.Assignment{RevokedAt: &past, DeactivatedAt: &past}, models.StatusRevoked},
		{"revoked before expired", models.Assignment{RevokedAt: &past, ExpiresAt: &past}, models.StatusRevoked},
		{"deleted reads revoked", models.Assignment{Record: models.Record{IsDeleted: true}, Active: true}, models.StatusRevoked},
		{"a group grant", models.Assignment{GroupID: &id, Active: true, Fulfilled: true}, models.StatusActive},
	}
	for _, c := range cases {
		if got := Status(&c.a, now); got != c.want {
			t.Errorf("%s: Status = %s, want %s", c.name, got, c.want)
		}
	}
}

func TestHoldsSeat(t *testing.T) {
	group := uuid.New()
	cases := []struct {
		name string
		a    models.Assignment
		want bool
	}{
		{"active", models.Assignment{Active: true, Fulfilled: true}, true},
		{"pending invitation", models.Assignment{Active: true}, true},
		{"suspended", models.Assignment{Fulfilled: true}, true},
		{"waitlisted", models.Assignment{Active: true, Fulfilled: true, WaitlistedAt: &past}, false},
		// Its end has come, but until the job (or a write) ends it, the seat
		// stays taken: nobody else can have it yet.
		{"past its end, not yet ended", models.Assignment{Active: true, Fulfilled: true, ExpiresAt: &past}, true},
		{"ended by the job", models.Assignment{Active: true, Fulfilled: true, ExpiredAt: &past}, false},
		{"revoked", models.Assignment{Active: true, Fulfilled: true, RevokedAt: &past}, false},
		{"deleted", models.Assignment{Record: models.Record{IsDeleted: true}, Active: true, Fulfilled: true}, false},
		{"a group grant itself", models.Assignment{GroupID: &group, Active: true, Fulfilled: true}, false},
		{"a deactivated person's", models.Assignment{Active: true, Fulfilled: true, DeactivatedAt: &past}, false},
	}
	for _, c := range cases {
		if got := holdsSeat(&c.a); got != c.want {
			t.Errorf("%s: holdsSeat = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestFree(t *testing.T) {
	seats := func(n int) *int { return &n }
	cases := []struct {
		total *int
		used  int
		want  *int
	}{
		{nil, 7, nil},
		{seats(10), 3, seats(7)},
		{seats(5), 5, seats(0)},
		// A total lowered under use by hand never reads negative.
		{seats(2), 4, seats(0)},
	}
	for _, c := range cases {
		got := (&models.License{TotalSeats: c.total, SeatsUsed: c.used}).Free()
		if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
			t.Errorf("Free(total %v, used %d) = %v, want %v", c.total, c.used, got, c.want)
		}
	}
}

func TestFirstEnd(t *testing.T) {
	later := future.Add(time.Hour)
	cases := []struct {
		name        string
		own, licens *time.Time
		want        *time.Time
	}{
		{"neither ends", nil, nil, nil},
		{"only the grant ends", &future, nil, &future},
		{"only the license ends", nil, &future, &future},
		{"the grant first", &future, &later, &future},
		{"the license first", &later, &future, &future},
	}
	for _, c := range cases {
		got := firstEnd(&models.Assignment{ExpiresAt: c.own, LicenseExpiresAt: c.licens})
		if (got == nil) != (c.want == nil) || (got != nil && !got.Equal(*c.want)) {
			t.Errorf("%s: firstEnd = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestExpired(t *testing.T) {
	for _, c := range []struct {
		end  *time.Time
		want bool
	}{{nil, false}, {&past, true}, {&now, true}, {&future, false}} {
		if got := Expired(&models.License{ExpiresAt: c.end}, now); got != c.want {
			t.Errorf("Expired(expiresAt %v) = %v, want %v", c.end, got, c.want)
		}
	}
}

package store

import (
	"testing"
	"time"
)

// TestClockNeverGoesBack: a new reading of the database's clock that is
// behind what Now already returned (a reading with a shorter round trip,
// or the database's clock stepped back) does not move Now backwards; Now
// stays at the latest time returned until the new reading passes it.
func TestClockNeverGoesBack(t *testing.T) {
	var c dbClock
	local := time.Now()
	db := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	c.set(clockReading{db: db, read: local})
	first := c.now(local.Add(time.Second))
	if !first.Equal(db.Add(time.Second)) {
		t.Fatalf("now %v, want %v", first, db.Add(time.Second))
	}
	// The next reading puts the database's clock 500 ms earlier.
	c.set(clockReading{db: db.Add(500 * time.Millisecond), read: local.Add(time.Second)})
	if got := c.now(local.Add(1200 * time.Millisecond)); got.Before(first) {
		t.Errorf("now went back from %v to %v", first, got)
	}
	if got := c.now(local.Add(2 * time.Second)); !got.Equal(db.Add(1500 * time.Millisecond)) {
		t.Errorf("now %v, want the new reading moved on, %v", got, db.Add(1500*time.Millisecond))
	}
}

package licensing_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"seatgraph/internal/apitest"
	"seatgraph/internal/licensing"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// holdEmail locks email for tenant in a transaction that stays open until
// the returned function is called (which waits for the commit).
func holdEmail(t *testing.T, db *store.DB, tenant, email string) (release func()) {
	t.Helper()
	held, done, free := make(chan struct{}), make(chan error, 1), make(chan struct{})
	go func() {
		done <- licensing.Write(context.Background(), db, actor(tenant), nil, func(tx *licensing.Tx) error {
			if err := tx.LockEmail(email); err != nil {
				return err
			}
			close(held)
			<-free
			return nil
		})
	}()
	select {
	case <-held:
	case err := <-done:
		t.Fatalf("LockEmail(%s): %v", email, err)
	}
	return func() {
		close(free)
		if err := <-done; err != nil {
			t.Errorf("the transaction holding %s: %v", email, err)
		}
	}
}

func actor(tenant string) licensing.Actor {
	return licensing.Actor{Tenant: store.Tenant{ID: tenant}, Subject: "test", Source: "test", SourceType: models.SourceAPI}
}

// waitForLockWait waits (bounded) until a session of the server's role is
// waiting for a lock.
func waitForLockWait(t *testing.T, super *sql.DB) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		if apitest.DB(t).LockWaiters(t, super) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no transaction is waiting for the email lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Locking an address serialises transactions on it, without writing a new
// version of its email_locks row each time.
func TestEmailLockBlocksWithoutWriting(t *testing.T) {
	d := apitest.DB(t)
	db, super := d.Open(t), d.SQL(t)
	tenant := apitest.Tenant("email-lock")
	const email = "Ada@Example.com"
	holdEmail(t, db, tenant, email)() // the row exists from now on
	version := func() string {
		var v string
		if err := super.QueryRow("SELECT ctid::text || '/' || xmin::text FROM email_locks WHERE tenant_id = $1 AND email = $2",
			tenant, "ada@example.com").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := version()

	release := holdEmail(t, db, tenant, email)
	second := make(chan error, 1)
	go func() {
		second <- licensing.Write(context.Background(), db, actor(tenant), nil, func(tx *licensing.Tx) error {
			return tx.LockEmail("ada@example.com")
		})
	}()
	waitForLockWait(t, super)
	select {
	case err := <-second:
		t.Fatalf("a second transaction locked the address while the first held it (%v)", err)
	default:
	}
	release()
	if err := <-second; err != nil {
		t.Fatalf("the second transaction, after the first committed: %v", err)
	}
	if after := version(); after != before {
		t.Errorf("locking the address wrote new versions of its row (%s, then %s), want none", before, after)
	}
}

// The expiry job prunes the email locks no transaction holds, and skips
// (without waiting for) the ones held.
func TestEmailLocksPruned(t *testing.T) {
	d := apitest.DB(t)
	db, super := d.Open(t), d.SQL(t)
	tenant := apitest.Tenant("email-prune")
	if _, err := super.Exec("INSERT INTO tenants (tenant_id) VALUES ($1)", tenant); err != nil {
		t.Fatal(err)
	}
	holdEmail(t, db, tenant, "old@example.com")()
	holdEmail(t, db, tenant, "held@example.com")()
	release := holdEmail(t, db, tenant, "held@example.com")
	defer release()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := licensing.ExpireDue(ctx, db); err != nil {
		t.Fatalf("ExpireDue while an email lock is held: %v", err)
	}
	rows, err := super.Query("SELECT email FROM email_locks WHERE tenant_id = $1 ORDER BY email", tenant)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var left []string
	for rows.Next() {
		var e string
		_ = rows.Scan(&e)
		left = append(left, e)
	}
	if len(left) != 1 || left[0] != "held@example.com" {
		t.Errorf("email locks left after the job: %v, want only the held one [held@example.com]", left)
	}
}

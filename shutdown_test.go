package main

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"seatgraph/internal/apitest"
)

// A server stopped in the middle of an expiry run gives the run's lease
// back before it closes its pool, so the next replica need not wait for
// the lease to expire.
func TestShutdownGivesLeaseBack(t *testing.T) {
	d := apitest.DB(t)
	super := d.SQL(t)
	// Hold the run up after it took the lease: it lists the tenants next.
	hold, err := super.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback() //nolint:errcheck
	if _, err := hold.Exec("LOCK TABLE tenants IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}

	serverEnv(t, d, map[string]string{"EXPIRY_INTERVAL": "1h"})
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	served := make(chan error, 1)
	go func() { served <- serve(ctx) }()

	// Wait (bounded) until the run holds the lease and waits for the lock.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var leases int
		if err := super.QueryRow(`SELECT count(*) FROM job_leases WHERE job = 'expiry'`).Scan(&leases); err != nil {
			t.Fatal(err)
		}
		waiting := d.LockWaiters(t, super)
		// The snapshot job, which starts at the same time, may wait on the
		// same lock.
		if leases == 1 && waiting >= 1 {
			break
		}
		select {
		case err := <-served:
			t.Fatalf("serve returned before the expiry run started: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the expiry run did not start (leases %d, waiting %d)", leases, waiting)
		}
		time.Sleep(20 * time.Millisecond)
	}

	stop() // SIGTERM
	if err := <-served; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	var holders []string
	rows, err := super.Query("SELECT job || ': ' || holder FROM job_leases")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var h string
		_ = rows.Scan(&h)
		holders = append(holders, h)
	}
	if len(holders) > 0 {
		t.Errorf("after a shutdown in the middle of a job run, leases are still held: %v, want them given back", holders)
	}
}

// serverEnv sets the environment serve reads for a server of the package
// database on a free port (more, when given, on top), and returns the
// port.
func serverEnv(t *testing.T, d *apitest.Database, more map[string]string) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	for k, v := range map[string]string{"DATABASE_URL": d.AppURL, "JWT_SECRET": apitest.Secret,
		"PORT": strconv.Itoa(port), "DEV_MODE": "false", "MIGRATE_ON_START": "false",
		"LOG_LEVEL": "error", "OTEL_EXPORTER_OTLP_ENDPOINT": "", "OTEL_TRACES_EXPORTER": ""} {
		t.Setenv(k, v)
	}
	for k, v := range more {
		t.Setenv(k, v)
	}
	return port
}

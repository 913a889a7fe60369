package licensing

import (
	"context"
	"errors"

	"seatgraph/internal/lease"
	"seatgraph/internal/store"
)

// The rules' Go definitions and their SQL twins, for the tests that prove
// the two agree (rules_sql_test.go, in package licensing_test, which can
// start the real server).
var (
	Ended     = ended
	Live      = live
	HoldsSeat = holdsSeat
)

// The SQL twins.
const (
	StatusSQL  = statusSQL
	LiveSQL    = liveSQL
	HasFreeSQL = hasFreeSQL
)

// EndedSQL is endedSQL.
func EndedSQL(col string) string { return endedSQL(col) }

// ExpireDueRenewingEachTenant is ExpireDue renewing its lease before every
// tenant, with before called before each tenant.
func ExpireDueRenewingEachTenant(ctx context.Context, db *store.DB, before func(tenant string)) (int, error) {
	return expireDue(ctx, db, 0, before)
}

// TakeLease takes job's lease for holder for the job's usual TTL.
func TakeLease(ctx context.Context, db *store.DB, job, holder string) (bool, error) {
	_, err := lease.Take(ctx, db, job, holder, leaseTTL, leaseTTL/2)
	if errors.Is(err, lease.ErrHeld) {
		return false, nil
	}
	return err == nil, err
}

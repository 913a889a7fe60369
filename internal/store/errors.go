package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// SQLSTATE classes and codes the services react to.
const (
	UniqueViolation      = "23505"
	ForeignKeyViolation  = "23503"
	CheckViolation       = "23514"
	serializationFailure = "40001"
	deadlockDetected     = "40P01"
	lockNotAvailable     = "55P03"
)

// Violation reports the SQLSTATE and constraint of a PostgreSQL error.
//
// On Citus, a violation on a shard reaches the coordinator's client
// without its constraint field: Citus passes on the worker's message,
// which names the constraint as the shard has it (an index, so a unique
// key, carries the shard id: the name, "_" and the id). The constraint is
// then read from the message, without the shard id, so callers see the
// name the migrations gave it on either database. (The messages are the
// server's English ones.)
func Violation(err error) (code, constraint string, ok bool) {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) {
		return "", "", false
	}
	constraint = pg.ConstraintName
	if constraint == "" && strings.HasPrefix(pg.Code, "23") {
		constraint = shardConstraint(pg.Message)
	}
	return pg.Code, constraint, true
}

var (
	namedConstraint = regexp.MustCompile(`violates (?:unique|check|foreign key|exclusion) constraint "([^"]+)"`)
	namedShard      = regexp.MustCompile(`(?:relation|table) "[^"]*(_[0-9]+)"`)
	shardSuffix     = regexp.MustCompile(`_[0-9]+$`)
)

// shardConstraint is the constraint a Citus shard's violation message
// names, without the shard id: `duplicate key value violates unique
// constraint "people_email_key_102044"` names people_email_key, `new row
// for relation "licenses_102035" violates check constraint
// "licenses_seats_within_total"` licenses_seats_within_total, `update or
// delete on table "groups_102040" violates foreign key constraint
// "group_members_tenant_id_group_id_fkey_102072" on table
// "group_members_102072"` group_members_tenant_id_group_id_fkey.
func shardConstraint(message string) string {
	m := namedConstraint.FindStringSubmatch(message)
	if m == nil {
		return ""
	}
	// A message names the shards of the tables it is about (both, for a
	// row a foreign key still points at); a unique key's names none.
	if shards := namedShard.FindAllStringSubmatch(message, -1); shards != nil {
		for _, shard := range shards {
			if strings.HasSuffix(m[1], shard[1]) {
				return strings.TrimSuffix(m[1], shard[1])
			}
		}
		return m[1]
	}
	return shardSuffix.ReplaceAllString(m[1], "")
}

// ErrRestart, returned by a WriteRetrying function, rolls its transaction
// back and runs it again from the start. A write returns it when a lock it
// already holds proved too weak for the row it found (an unlimited license
// given a limit meanwhile): upgrading the lock in place would deadlock
// with every other write doing the same, each holding the weak lock the
// other waits out.
var ErrRestart = errors.New("store: transaction restarted")

// retryable reports whether a transaction failed only because of a
// concurrent one and may simply be run again.
func retryable(err error) bool {
	code, _, ok := Violation(err)
	return errors.Is(err, ErrRestart) || ok && (code == serializationFailure || code == deadlockDetected)
}

// DataException reports whether PostgreSQL refused a value (class 22:
// out of range, bad format, too long).
func DataException(err error) bool {
	code, _, ok := Violation(err)
	return ok && len(code) == 5 && code[:2] == "22"
}

// badValues are the data exceptions a caller's value causes: bad text
// representation, numeric out of range, bad datetime format, datetime out
// of range, string too long, bad byte sequence, untranslatable character.
var badValues = map[string]bool{"22P02": true, "22003": true, "22007": true, "22008": true,
	"22001": true, "22021": true, "22P05": true}

// BadValue reports whether PostgreSQL refused a value as malformed or out
// of range (a subset of DataException that input, not code, causes).
func BadValue(err error) bool {
	code, _, ok := Violation(err)
	return ok && badValues[code]
}

// Busy reports whether a statement gave up waiting for a lock
// (lock_timeout): other writers held the rows it needed for too long.
func Busy(err error) bool {
	code, _, ok := Violation(err)
	return ok && code == lockNotAvailable
}

// Unavailable reports whether err means the database could not be
// reached or dropped the connection: refused or failed connections,
// broken sockets, and a server shutting down, starting or out of
// connections (SQLSTATE classes 08 and 57P, and 53300). A statement
// stopped because its request ended (timed out, or the caller went away)
// is not: the database was there.
func Unavailable(err error) bool {
	if err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	var connect *pgconn.ConnectError
	var netErr net.Error
	if errors.As(err, &connect) || errors.As(err, &netErr) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	code, _, ok := Violation(err)
	return ok && (strings.HasPrefix(code, "08") || strings.HasPrefix(code, "57P") || code == "53300")
}

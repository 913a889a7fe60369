package store

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// SQLSTATE classes and codes the services react to.
const (
	UniqueViolation      = "23505"
	ForeignKeyViolation  = "23503"
	CheckViolation       = "23514"
	SerializationFailure = "40001"
	DeadlockDetected     = "40P01"
)

// Violation reports the SQLSTATE and constraint of a PostgreSQL error.
func Violation(err error) (code, constraint string, ok bool) {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) {
		return "", "", false
	}
	return pg.Code, pg.ConstraintName, true
}

// Retryable reports whether a transaction failed only because of a
// concurrent one and may simply be run again.
func Retryable(err error) bool {
	code, _, ok := Violation(err)
	return ok && (code == SerializationFailure || code == DeadlockDetected)
}

// DataException reports whether PostgreSQL refused a value (class 22:
// out of range, bad format, too long).
func DataException(err error) bool {
	code, _, ok := Violation(err)
	return ok && len(code) == 5 && code[:2] == "22"
}

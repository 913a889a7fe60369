package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/uptrace/bun"
)

// idQuery is a statement whose one result column is a uuid: an UPDATE,
// INSERT or DELETE … RETURNING a.id, or a SELECT of ids.
type idQuery interface {
	bun.Query
	Scan(ctx context.Context, dest ...any) error
}

// ScanIDs runs q, built from this scope, and appends the ids it returns
// to dest. Outside a transaction (a Session's read, DB.WriteStatement) the
// statement goes through pgx on the scoped connection, as Scan's do: no
// database/sql rows (and the goroutine they start to watch the context),
// no conversion of each id to text and back. Inside a transaction it goes
// through bun.
func (s Scope) ScanIDs(ctx context.Context, q idQuery, dest *[]uuid.UUID) error {
	c, ok := s.idb.(bun.Conn)
	if !ok || s.db == nil {
		return q.Scan(ctx, dest)
	}
	return s.viaPgx(ctx, c, q, func(ctx context.Context, c *conn, query string) (int, error) {
		return scanIDs(ctx, c, query, dest)
	})
}

// scanIDs sends query on c and appends the uuid of each row to dest.
func scanIDs(ctx context.Context, c *conn, query string, dest *[]uuid.UUID) (int, error) {
	rows, err := send(ctx, c, query)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	if !rows.Next() {
		rows.Close()
		return 0, rows.Err() // no row, or the statement failed
	}
	if cols := rows.FieldDescriptions(); len(cols) != 1 || cols[0].DataTypeOID != pgtype.UUIDOID || cols[0].Format != pgx.BinaryFormatCode {
		return 0, fmt.Errorf("store: ScanIDs reads one uuid column; the statement returns %d columns", len(cols))
	}
	n := 0
	for ok := true; ok; ok = rows.Next() {
		raw := rows.RawValues()[0]
		if len(raw) != 16 {
			return n, fmt.Errorf("store: ScanIDs read a null or malformed uuid")
		}
		*dest = append(*dest, uuid.UUID(raw))
		n++
	}
	return n, rows.Err()
}

package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"unsafe"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"
)

// Scan runs q, built from this scope, and scans its rows into dest, a
// pointer to a slice of pointers to a bun model (*[]*models.Person), as
// q.Scan(ctx, dest) does. On a Session's read (not in a transaction) the
// statement goes through pgx on the scoped connection and each column is
// decoded by pgx straight into the model's field (in binary or text, as
// resultFormats says): none of database/sql's conversion of every value
// to a driver.Value (uuids as text, parsed again), nor bun's reflective
// scan with a field lookup per column of every row. The
// statement is the same (bun builds it, parameterize turns its values
// into parameters, pgx's statement cache prepares it once per
// connection), the tenant setting is brought in line first (conn.sync),
// and the pool's query hooks see it as they see bun's (the statement
// counter, metrics, traces). Any other dest, and statements inside a
// transaction, go through bun.
func (s Scope) Scan(ctx context.Context, q *bun.SelectQuery, dest any) error {
	c, ok := s.idb.(bun.Conn)
	slice := reflect.ValueOf(dest)
	if !ok || s.db == nil || slice.Kind() != reflect.Pointer || slice.Elem().Kind() != reflect.Slice {
		return q.Scan(ctx, dest)
	}
	ptr := slice.Elem().Type().Elem()
	if ptr.Kind() != reflect.Pointer || ptr.Elem().Kind() != reflect.Struct {
		return q.Scan(ctx, dest)
	}
	table := s.idb.Dialect().Tables().Get(ptr.Elem())
	return s.viaPgx(ctx, c, q, func(ctx context.Context, c *conn, query string) (int, error) {
		return scanRows(ctx, c, query, ptr.Elem(), table, slice.Elem())
	})
}

// viaPgx writes q as bun does and has read send it on c's pgx connection
// and read its rows (their number is its first result), with the pool's
// query hooks around it as around bun's statements.
func (s Scope) viaPgx(ctx context.Context, c bun.Conn, q bun.Query, read func(ctx context.Context, c *conn, query string) (int, error)) error {
	b, err := q.AppendQuery(s.db.bun.QueryGen(), nil)
	if err != nil {
		return err
	}
	query := string(b)
	ctx, event := s.db.beforeQuery(ctx, q, query)
	n := 0
	err = c.Raw(func(dc any) error {
		var err error
		n, err = read(ctx, dc.(*conn), query)
		return err
	})
	s.db.afterQuery(ctx, event, n, err)
	return err
}

// scanRows sends query on c and appends each row, as a new *typ, to out.
func scanRows(ctx context.Context, c *conn, query string, typ reflect.Type, table *schema.Table, out reflect.Value) (int, error) {
	rows, err := send(ctx, c, query)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols := rows.FieldDescriptions()
	fields, key, err := fieldsOf(typ, table, cols)
	if err != nil {
		return 0, err
	}
	// Each row is decoded into scratch, whose columns' addresses are
	// taken once, then copied into a row of its own, and scratch zeroed
	// (so that nothing of one row, such as a map, is reused by the next).
	scratch := reflect.New(typ)
	base := scratch.UnsafePointer()
	dests := make([]any, len(fields))
	ids := make([]pgtype.UUID, len(fields)) // the nullable uuids of a row
	for i, f := range fields {
		switch at := unsafe.Add(base, f.offset); f.kind {
		case uuidField:
			// As bytes: a uuid.UUID is a sql.Scanner, which pgx would
			// feed the uuid as text to parse again.
			dests[i] = (*[16]byte)(at)
		case uuidPtrField:
			dests[i] = &ids[i]
		default:
			dests[i] = reflect.NewAt(f.typ, at).Interface()
		}
	}
	// pgx plans how to decode each column into its destination anew for
	// every statement; the plans depend only on the column's type and the
	// destination's, so the connection keeps them for the next statement
	// of the same shape.
	plans := c.plans[key]
	if plans == nil {
		plans = make([]pgtype.ScanPlan, len(cols))
		for i, d := range dests {
			plans[i] = c.Conn.Conn().TypeMap().PlanScan(cols[i].DataTypeOID, cols[i].Format, d)
		}
		if c.plans == nil {
			c.plans = map[planKey][]pgtype.ScanPlan{}
		}
		c.plans[key] = plans
	}
	n := 0
	for rows.Next() {
		for i, raw := range rows.RawValues() {
			if err := plans[i].Scan(raw, dests[i]); err != nil {
				return n, fmt.Errorf("store: scan column %q: %w", cols[i].Name, err)
			}
		}
		for i, f := range fields {
			if id := ids[i]; f.kind == uuidPtrField && id.Valid {
				u := uuid.UUID(id.Bytes)
				*(**uuid.UUID)(unsafe.Add(base, f.offset)) = &u
			}
		}
		row := reflect.New(typ)
		row.Elem().Set(scratch.Elem())
		scratch.Elem().SetZero()
		out.Set(reflect.Append(out, row))
		n++
	}
	return n, rows.Err()
}

// send sends query, as bun wrote it, on c through pgx: the tenant setting
// brought in line first, its values as parameters, each column in the
// format resultFormats says.
func send(ctx context.Context, c *conn, query string) (pgx.Rows, error) {
	if c.Conn.Conn().IsClosed() {
		return nil, driver.ErrBadConn
	}
	if err := c.sync(ctx); err != nil {
		return nil, err
	}
	text, named, err := parameterize(query, nil)
	if err != nil {
		return nil, err
	}
	args := make([]any, len(named)+1)
	args[0] = resultFormats
	for i, v := range named {
		args[i+1] = v.Value
	}
	rows, err := c.Conn.Conn().Query(ctx, text, args...)
	if err != nil && pgconn.SafeToRetry(err) {
		return nil, driver.ErrBadConn // as pgx's database/sql driver answers
	}
	return rows, err
}

// resultFormats are the formats Scope.Scan asks for: binary for the
// types database/sql's pgx driver reads in binary, and for uuids (16
// bytes); text for every other type, as that driver reads them. A
// numeric in binary would not keep a zero's scale (pgx writes 0.00 as
// "0"; PostgreSQL's text is "0.00", which a cost is read back as).
var resultFormats = pgx.QueryResultFormatsByOID{
	pgtype.BoolOID: pgx.BinaryFormatCode, pgtype.ByteaOID: pgx.BinaryFormatCode, pgtype.DateOID: pgx.BinaryFormatCode,
	pgtype.Float4OID: pgx.BinaryFormatCode, pgtype.Float8OID: pgx.BinaryFormatCode, pgtype.Int2OID: pgx.BinaryFormatCode,
	pgtype.Int4OID: pgx.BinaryFormatCode, pgtype.Int8OID: pgx.BinaryFormatCode, pgtype.TimestampOID: pgx.BinaryFormatCode,
	pgtype.TimestamptzOID: pgx.BinaryFormatCode, pgtype.UUIDOID: pgx.BinaryFormatCode,
}

var (
	uuidType    = reflect.TypeFor[uuid.UUID]()
	uuidPtrType = reflect.TypeFor[*uuid.UUID]()
)

type planKey struct {
	typ     reflect.Type
	columns string
}

var fieldCache sync.Map // planKey -> []field

// field is where a result column is decoded to in a row of the model: at
// offset bytes into the struct (the model's fields are its own or those
// of structs it embeds by value, so each is at a fixed offset), of type
// typ. Decoding a row takes each column's address from it, instead of
// walking the model's fields by reflection for every column of every row.
type field struct {
	offset uintptr
	typ    reflect.Type
	kind   fieldKind
}

type fieldKind int

const (
	otherField   fieldKind = iota
	uuidField              // a uuid.UUID, decoded as its 16 bytes
	uuidPtrField           // a *uuid.UUID, decoded through a pgtype.UUID
)

// fieldsOf is the model field of each result column, by name, as bun
// matches them (a column the model lacks is an error, as it is in bun),
// and the key of the result's shape: the model, and each column's name,
// type and format.
func fieldsOf(typ reflect.Type, table *schema.Table, cols []pgconn.FieldDescription) ([]field, planKey, error) {
	key := make([]byte, 0, 32*len(cols))
	for _, c := range cols {
		key = append(append(key, c.Name...), ':')
		key = append(strconv.AppendUint(key, uint64(c.DataTypeOID), 10), ':')
		key = append(strconv.AppendInt(key, int64(c.Format), 10), ',')
	}
	k := planKey{typ, string(key)}
	if p, ok := fieldCache.Load(k); ok {
		return p.([]field), k, nil
	}
	fields := make([]field, len(cols))
	for i, c := range cols {
		f := table.LookupField(c.Name)
		if f == nil {
			return nil, k, fmt.Errorf("store: %s does not have column %q", typ, c.Name)
		}
		t := typ
		for _, x := range f.Index {
			if t.Kind() != reflect.Struct {
				return nil, k, fmt.Errorf("store: %s reaches column %q through a pointer", typ, c.Name)
			}
			sf := t.Field(x)
			fields[i].offset += sf.Offset
			t = sf.Type
		}
		fields[i].typ = t
		switch t {
		case uuidType:
			fields[i].kind = uuidField
		case uuidPtrType:
			fields[i].kind = uuidPtrField
		}
	}
	fieldCache.Store(k, fields)
	return fields, k, nil
}

// beforeQuery and afterQuery run the pool's query hooks around a
// statement sent without bun, as bun runs them (in order before, in
// reverse order after).
func (db *DB) beforeQuery(ctx context.Context, q bun.Query, query string) (context.Context, *bun.QueryEvent) {
	e := &bun.QueryEvent{DB: db.bun, IQuery: q, Query: query, QueryTemplate: query, StartTime: statementStart()}
	for _, h := range db.hooks {
		ctx = h.BeforeQuery(ctx, e)
	}
	return ctx, e
}

func (db *DB) afterQuery(ctx context.Context, e *bun.QueryEvent, rows int, err error) {
	e.Result, e.Err = driver.RowsAffected(rows), err
	for i := len(db.hooks) - 1; i >= 0; i-- {
		db.hooks[i].AfterQuery(ctx, e)
	}
}

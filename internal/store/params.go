package store

import (
	"database/sql/driver"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/schema"
)

// Plans reused: bun writes every value into the SQL text, so each request
// would send a text PostgreSQL has never seen, to be parsed and planned
// anew (and pgx would prepare each as a statement of its own). Instead,
// the dialect below writes each text, time and JSON value as a marker
// (a NUL byte, a kind, the value in hex, a NUL byte: PostgreSQL text can
// hold no NUL, so a marker cannot be confused with SQL), and the
// connection turns the markers into $n placeholders with the values as
// arguments (parameterize) before the statement leaves. Statements of one
// shape therefore share one text, which pgx prepares once per connection,
// and PostgreSQL plans once per connection (a generic plan: GenericPlans
// in store.go says why it is forced). Numbers, booleans and NULL stay in the text:
// they are part of a statement's shape (LIMIT 51) more often than not.
//
// A value becomes an untyped parameter, which PostgreSQL types from its
// context exactly as it types a quoted literal; times are cast to
// timestamptz, the only time type of the schema.

const (
	markText = 's'
	markTime = 't'
)

// dialect is bun's PostgreSQL dialect writing values as markers.
type dialect struct{ *pgdialect.Dialect }

func newDialect() dialect { return dialect{pgdialect.New()} }

func mark(b []byte, kind byte, v string) []byte {
	b = append(b, 0, kind)
	b = hex.AppendEncode(b, []byte(v))
	return append(b, 0)
}

func (d dialect) AppendString(b []byte, s string) []byte { return mark(b, markText, s) }

func (d dialect) AppendJSON(b, jsonb []byte) []byte { return mark(b, markText, string(jsonb)) }

func (d dialect) AppendTime(b []byte, tm time.Time) []byte {
	return mark(b, markTime, tm.UTC().Format(time.RFC3339Nano))
}

// parameterize turns the markers of query into $n placeholders (numbered
// after the args it already has) and returns the values as arguments.
func parameterize(query string, args []driver.NamedValue) (string, []driver.NamedValue, error) {
	if strings.IndexByte(query, 0) < 0 {
		return query, args, nil
	}
	var b strings.Builder
	b.Grow(len(query))
	for {
		i := strings.IndexByte(query, 0)
		if i < 0 {
			b.WriteString(query)
			return b.String(), args, nil
		}
		end := strings.IndexByte(query[i+1:], 0)
		if end < 1 {
			return "", nil, errMarker
		}
		kind, raw := query[i+1], query[i+2:i+1+end]
		v, err := hex.DecodeString(raw)
		if err != nil {
			return "", nil, errMarker
		}
		b.WriteString(query[:i])
		args = append(args, driver.NamedValue{Ordinal: len(args) + 1, Value: string(v)})
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(len(args)))
		if kind == markTime {
			b.WriteString("::timestamptz")
		}
		query = query[i+2+end:]
	}
}

// Text is query as it is sent: its markers written as $n placeholders,
// without the values (for logs and traces).
func Text(query string) string {
	q, _, err := parameterize(query, nil)
	if err != nil {
		return query
	}
	return q
}

// Prepared is query as the pool sends it, as a PREPARE of the statement
// named name (its markers as $n parameters, whose types PostgreSQL infers
// as it does for pgx) and the EXECUTE that runs it with query's own
// values: how a tool sees the plan the server's prepared statement gets.
func Prepared(name, query string) (prepare, execute string) {
	q, args, err := parameterize(query, nil)
	if err != nil {
		q, args = query, nil
	}
	execute = "EXECUTE " + name
	if len(args) > 0 {
		lits := make([]string, len(args))
		for i, a := range args {
			lits[i] = "'" + strings.ReplaceAll(a.Value.(string), "'", "''") + "'"
		}
		execute += "(" + strings.Join(lits, ", ") + ")"
	}
	return "PREPARE " + name + " AS " + q, execute
}

// Literal is query with its markers written back as quoted literals: the
// statement as a person (or EXPLAIN) would read it.
func Literal(query string) string {
	q, args, err := parameterize(query, nil)
	if err != nil || len(args) == 0 {
		return query
	}
	// One pass from left to right, so that a value holding "$n" text is
	// never rewritten by a later replacement.
	var out strings.Builder
	for i := 0; i < len(q); i++ {
		if q[i] != '$' {
			out.WriteByte(q[i])
			continue
		}
		j := i + 1
		for j < len(q) && q[j] >= '0' && q[j] <= '9' {
			j++
		}
		n, err := strconv.Atoi(q[i+1 : j])
		if err != nil || n < 1 || n > len(args) {
			out.WriteByte(q[i])
			continue
		}
		out.WriteString("'" + strings.ReplaceAll(args[n-1].Value.(string), "'", "''") + "'")
		i = j - 1
	}
	return out.String()
}

type markerError struct{}

func (markerError) Error() string { return "store: malformed value marker in a statement" }

var errMarker = markerError{}

// UUIDs is a uuid[] value (one parameter, however many ids).
type UUIDs []uuid.UUID

// AppendQuery writes ids as one uuid[] value.
func (ids UUIDs) AppendQuery(gen schema.QueryGen, b []byte) ([]byte, error) {
	var s strings.Builder
	s.WriteByte('{')
	for i, id := range ids {
		if i > 0 {
			s.WriteByte(',')
		}
		s.WriteString(id.String())
	}
	s.WriteByte('}')
	return append(gen.Dialect().AppendString(b, s.String()), "::uuid[]"...), nil
}

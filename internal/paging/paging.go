// Package paging implements Relay cursor pagination as keyset pagination:
// a page is "the next N rows after this (sort key, id)", read from an index,
// never with OFFSET.
package paging

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/cursor"
)

// Page sizes: the default when neither first nor last is given, and the
// most one page may hold.
const (
	DefaultSize = 20
	MaxSize     = 100
)

// ErrInvalidArgs is wrapped by every argument error; the API reports it as
// BAD_USER_INPUT.
var ErrInvalidArgs = errors.New("invalid pagination arguments")

// Args are the four Relay connection arguments.
type Args struct {
	First  *int
	After  *string
	Last   *int
	Before *string
}

// Order is a sort order of rows of type T: an SQL expression (empty to sort
// by id alone) with its direction, and how to read the expression's value
// off a row, as text, for the cursor.
type Order[T any] struct {
	Name  string
	Expr  string
	Desc  bool
	Value func(T) string
}

// Window is a validated request for one page.
type Window struct {
	Size     int
	Backward bool
	After    *cursor.Key
	Before   *cursor.Key
}

// PageInfo is Relay's PageInfo. Its cursors are written when they are
// asked for (StartCursor, EndCursor): a query that pages on reads them, one
// that reads a page of nodes (most do) would only pay for them.
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	n               int
	cursor          func(i int) string
}

// StartCursor is the cursor of the page's first item; nil when it has none.
func (p *PageInfo) StartCursor() *string { return p.cursorAt(0) }

// EndCursor is the cursor of the page's last item; nil when it has none.
func (p *PageInfo) EndCursor() *string { return p.cursorAt(p.n - 1) }

func (p *PageInfo) cursorAt(i int) *string {
	if i < 0 || i >= p.n || p.cursor == nil {
		return nil
	}
	c := p.cursor(i)
	return &c
}

// Page is one page of rows; Cursor writes an item's cursor.
type Page[T any] struct {
	Items    []T
	PageInfo PageInfo
}

// Cursor is the cursor of the i-th item.
func (p Page[T]) Cursor(i int) string { return p.PageInfo.cursor(i) }

// NewWindow validates args for the order named order.
func NewWindow(args Args, order string) (Window, error) {
	w := Window{Size: DefaultSize}
	if args.First != nil && args.Last != nil {
		return w, fmt.Errorf("%w: give first or last, not both", ErrInvalidArgs)
	}
	for name, n := range map[string]*int{"first": args.First, "last": args.Last} {
		if n != nil && (*n < 0 || *n > MaxSize) {
			return w, fmt.Errorf("%w: %s must be between 0 and %d, got %d", ErrInvalidArgs, name, MaxSize, *n)
		}
	}
	switch {
	case args.First != nil:
		w.Size = *args.First
	case args.Last != nil:
		w.Size, w.Backward = *args.Last, true
	case args.Before != nil && args.After == nil:
		w.Backward = true
	}
	for name, s := range map[string]*string{"after": args.After, "before": args.Before} {
		if s == nil {
			continue
		}
		k, err := cursor.Decode(*s, order)
		if err != nil {
			return w, fmt.Errorf("%w: %s: %v", ErrInvalidArgs, name, err)
		}
		if name == "after" {
			w.After = &k
		} else {
			w.Before = &k
		}
	}
	return w, nil
}

// Apply adds the keyset conditions, the sort and the limit of w to q.
// idExpr is the row id column (for example "a.id").
func Apply[T any](q *bun.SelectQuery, o Order[T], idExpr string, w Window) *bun.SelectQuery {
	if w.After != nil {
		q = where(q, o, idExpr, *w.After, !o.Desc)
	}
	if w.Before != nil {
		q = where(q, o, idExpr, *w.Before, o.Desc)
	}
	dir := " ASC"
	if o.Desc != w.Backward {
		dir = " DESC"
	}
	if o.Expr != "" {
		q = q.OrderExpr(o.Expr + dir)
	}
	return q.OrderExpr(idExpr + dir).Limit(int64(w.Size + 1))
}

// where keeps the rows strictly after (greater) or before k.
func where[T any](q *bun.SelectQuery, o Order[T], idExpr string, k cursor.Key, greater bool) *bun.SelectQuery {
	op := "<"
	if greater {
		op = ">"
	}
	if o.Expr == "" {
		return q.Where(idExpr+" "+op+" ?", k.ID)
	}
	var v string
	if k.Value != nil {
		v = *k.Value
	}
	return q.Where("("+o.Expr+", "+idExpr+") "+op+" (?, ?)", v, k.ID)
}

// Finish turns the rows read by a query built with Apply into a page.
func Finish[T any](rows []T, o Order[T], idOf func(T) uuid.UUID, w Window) Page[T] {
	more := len(rows) > w.Size
	if more {
		rows = rows[:w.Size]
	}
	if w.Backward {
		slices.Reverse(rows)
	}
	p := Page[T]{Items: rows, PageInfo: PageInfo{n: len(rows), cursor: func(i int) string {
		k := cursor.Key{Order: o.Name, ID: idOf(rows[i])}
		if o.Value != nil {
			v := o.Value(rows[i])
			k.Value = &v
		}
		return cursor.Encode(k)
	}}}
	if w.Backward {
		p.PageInfo.HasPreviousPage, p.PageInfo.HasNextPage = more, w.Before != nil
	} else {
		p.PageInfo.HasNextPage, p.PageInfo.HasPreviousPage = more, w.After != nil
	}
	return p
}

// Named completes an order of the list named list with its direction and
// the name its cursors carry, so that a cursor of one list or order is
// refused by another.
func Named[T any](o Order[T], list, field string, desc bool) Order[T] {
	o.Desc = desc
	o.Name = list + "." + field + ".asc"
	if desc {
		o.Name = list + "." + field + ".desc"
	}
	return o
}

// TimeKey renders a time as a cursor value; a missing time sorts as ifNil
// ("infinity" or "-infinity", matching the coalesce in the order's SQL).
func TimeKey(t *time.Time, ifNil string) string {
	if t == nil {
		return ifNil
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Len is the number of items on the page.
func (p Page[T]) Len() int { return len(p.Items) }

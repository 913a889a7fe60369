package paging

import (
	"context"
	"slices"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/store"
)

// List describes a keyset-paginated list of T: its order, its id column,
// how to read a row's id, and how to build the filtered query in a scope.
type List[T any] struct {
	Order  Order[T]
	IDExpr string
	ID     func(T) uuid.UUID
	Build  func(store.Scope) (*bun.SelectQuery, error)
}

// Read reads the page of l that args ask for.
func (l List[T]) Read(ctx context.Context, sess *store.Session, args Args) (Page[T], error) {
	w, err := NewWindow(args, l.Order.Name)
	if err != nil {
		return Page[T]{}, err
	}
	var rows []T
	err = sess.Read(ctx, func(s store.Scope) error {
		q, err := l.Build(s)
		if err != nil {
			return err
		}
		return s.Scan(ctx, Apply(q, l.Order, l.IDExpr, w), &rows)
	})
	if err != nil {
		return Page[T]{}, err
	}
	return Finish(rows, l.Order, l.ID, w), nil
}

// ReadEach reads the page args ask for of each parent's list, in one
// statement. parentExpr is the SQL expression of a row's parent (for
// example "a.license_id") and parentOf reads it off a row. parents may
// name a parent more than once (a query reaching one person through two
// grants): it is read once, and every mention of it gets its page.
func (l List[T]) ReadEach(ctx context.Context, sess *store.Session, parentExpr string, parents []uuid.UUID, parentOf func(T) uuid.UUID, args Args) (map[uuid.UUID]Page[T], error) {
	w, err := NewWindow(args, l.Order.Name)
	if err != nil {
		return nil, err
	}
	// A parent named twice would be read twice by the lateral join (its
	// rows twice in its page) and finished twice (a backward page reversed
	// back).
	parents = slices.Clone(parents)
	slices.SortFunc(parents, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	parents = slices.Compact(parents)
	var rows []T
	err = sess.Read(ctx, func(s store.Scope) error {
		q, err := l.Build(s)
		if err != nil {
			return err
		}
		// The lateral reference makes PostgreSQL run the inner, ordered and
		// limited query once per parent, so rows arrive in page order.
		q = q.Where(parentExpr + " = parent.id")
		return s.Lateral(ctx, parents, Apply(q, l.Order, l.IDExpr, w), &rows)
	})
	if err != nil {
		return nil, err
	}
	byParent := make(map[uuid.UUID][]T, len(parents))
	for _, r := range rows {
		p := parentOf(r)
		byParent[p] = append(byParent[p], r)
	}
	pages := make(map[uuid.UUID]Page[T], len(parents))
	for _, p := range parents {
		pages[p] = Finish(byParent[p], l.Order, l.ID, w)
	}
	return pages, nil
}

// Count counts the rows of the list, across all pages.
func (l List[T]) Count(ctx context.Context, sess *store.Session) (int, error) {
	var n int
	err := sess.Read(ctx, func(s store.Scope) error {
		q, err := l.Build(s)
		if err != nil {
			return err
		}
		c, err := q.Count(ctx)
		n = int(c)
		return err
	})
	return n, err
}

// CountEach counts, in one statement, the rows of each parent's list;
// parentExpr is as for ReadEach.
func (l List[T]) CountEach(ctx context.Context, sess *store.Session, parents []uuid.UUID, parentExpr string) (map[uuid.UUID]int, error) {
	var rows []struct {
		Parent uuid.UUID `bun:"parent"`
		N      int       `bun:"n"`
	}
	err := sess.Read(ctx, func(s store.Scope) error {
		q, err := l.Build(s)
		if err != nil {
			return err
		}
		q = q.ColumnExpr(parentExpr+" AS count_parent").Where(parentExpr+" IN (?)", bun.List(parents))
		return s.From(q, "counted").ColumnExpr("counted.count_parent AS parent, count(*) AS n").
			GroupExpr("counted.count_parent").Scan(ctx, &rows)
	})
	if err != nil {
		return nil, err
	}
	counts := make(map[uuid.UUID]int, len(parents))
	for _, r := range rows {
		counts[r.Parent] = r.N
	}
	return counts, nil
}

package paging

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"seatgraph/internal/cursor"
)

func ptr[T any](v T) *T { return &v }

func TestNewWindow(t *testing.T) {
	after := cursor.Encode(cursor.Key{Order: "o", ID: uuid.New()})
	cases := []struct {
		name     string
		args     Args
		size     int
		backward bool
	}{
		{"the default page", Args{}, DefaultSize, false},
		{"first", Args{First: ptr(5)}, 5, false},
		{"last", Args{Last: ptr(3)}, 3, true},
		{"before alone reads backward", Args{Before: &after}, DefaultSize, true},
		{"after and before read forward", Args{After: &after, Before: &after}, DefaultSize, false},
		{"an empty page", Args{First: ptr(0)}, 0, false},
		{"the largest page", Args{First: ptr(MaxSize)}, MaxSize, false},
	}
	for _, c := range cases {
		w, err := NewWindow(c.args, "o")
		if err != nil || w.Size != c.size || w.Backward != c.backward {
			t.Errorf("%s: NewWindow = %+v, %v; want size %d backward %v", c.name, w, err, c.size, c.backward)
		}
	}
	for name, args := range map[string]Args{
		"first and last":         {First: ptr(1), Last: ptr(1)},
		"first over the maximum": {First: ptr(MaxSize + 1)},
		"negative last":          {Last: ptr(-1)},
		"a cursor of another":    {After: ptr(cursor.Encode(cursor.Key{Order: "other", ID: uuid.New()}))},
		"a forged cursor":        {Before: ptr("bm90IGEgY3Vyc29y")},
	} {
		if _, err := NewWindow(args, "o"); !errors.Is(err, ErrInvalidArgs) {
			t.Errorf("%s: NewWindow = %v, want ErrInvalidArgs", name, err)
		}
	}
}

type row struct {
	id   uuid.UUID
	name string
}

func TestFinish(t *testing.T) {
	o := Named(Order[row]{Expr: "r.name", Value: func(r row) string { return r.name }}, "rows", "NAME", false)
	rows := []row{{uuid.New(), "a"}, {uuid.New(), "b"}, {uuid.New(), "c"}}
	idOf := func(r row) uuid.UUID { return r.id }

	// Forward: one row more than the page says there is a next page.
	p := Finish(rows, o, idOf, Window{Size: 2})
	if len(p.Items) != 2 || !p.PageInfo.HasNextPage || p.PageInfo.HasPreviousPage {
		t.Fatalf("forward page = %+v", p.PageInfo)
	}
	k, err := cursor.Decode(*p.PageInfo.EndCursor(), o.Name)
	if err != nil || k.ID != rows[1].id || *k.Value != "b" {
		t.Fatalf("end cursor = %+v, %v; want row b", k, err)
	}

	// Backward: rows arrive last first and are put back in order.
	after := cursor.Key{Order: o.Name, ID: uuid.New()}
	back := Finish([]row{rows[2], rows[1], rows[0]}, o, idOf, Window{Size: 2, Backward: true, Before: &after})
	if back.Items[0].name != "b" || back.Items[1].name != "c" || !back.PageInfo.HasPreviousPage || !back.PageInfo.HasNextPage {
		t.Fatalf("backward page = %v %+v", back.Items, back.PageInfo)
	}

	// The last page, and an empty one.
	last := Finish(rows, o, idOf, Window{Size: 5, After: &after})
	if last.PageInfo.HasNextPage || !last.PageInfo.HasPreviousPage || len(last.Items) != 3 || *last.PageInfo.StartCursor() != last.Cursor(0) || *last.PageInfo.EndCursor() != last.Cursor(2) {
		t.Fatalf("last page = %+v", last.PageInfo)
	}
	empty := Finish(nil, o, idOf, Window{Size: 5})
	if empty.PageInfo.StartCursor() != nil || empty.PageInfo.EndCursor() != nil || empty.PageInfo.HasNextPage {
		t.Fatalf("empty page = %+v", empty.PageInfo)
	}
}

func TestPickOrder(t *testing.T) {
	orders := Orders[row]{List: "rows", Default: SortName, By: map[string]Order[row]{
		SortName: {Expr: "r.name"}, SortCreated: {Expr: "r.created_at"},
	}}
	if o := orders.Pick("", nil); o.Expr != "r.name" || o.Desc || o.Name != "rows.NAME.asc" {
		t.Errorf("default order = %+v", o)
	}
	if o := orders.Pick(SortCreated, ptr(Desc)); o.Expr != "r.created_at" || !o.Desc || o.Name != "rows.CREATED.desc" {
		t.Errorf("CREATED DESC = %+v", o)
	}
	if o := orders.Pick(SortLastUsed, ptr("ASC")); o.Expr != "r.name" || o.Name != "rows.NAME.asc" {
		t.Errorf("a field the list does not offer = %+v, want the default", o)
	}
}

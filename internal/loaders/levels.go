package loaders

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vikstrous/dataloadgen"

	"seatgraph/internal/telemetry"
)

// How a level of a nested query is batched without waiting on a timer.
//
// gqlgen resolves the fields of a list's items concurrently, one goroutine
// per field. A per-parent list field (License.assignments under
// licenses.nodes, say) is asked for once per item, so the batch of that
// field is complete when as many items have asked as the list holds.
// Whoever reads a page tells the request's levels how many items it holds
// (Expect), keyed by the page field's path without list indexes; the
// batcher of a child field looks the count up by its own path and runs
// the batch the moment the last sibling asks. A field in no list at all
// (person(id){ groups }) is asked for once and runs at once. Only where
// no count is known (a list the loaders did not read, such as nodes(ids))
// does a batch fall back to waiting for fallbackWait.
//
// The related records of a page (an assignment's person, group and
// license) need no batching at all: the page's reader fetches them at
// once, concurrently, and primes the by-id loaders (Loaders.prime).
const fallbackWait = 5 * time.Millisecond

// levels counts the items of the pages read in one request.
//
// Not every item asks for every field below it: an assignee that is a
// Group never asks for Person.groups, an invitation has no assignee. So a
// batch also counts the items of its page that will not ask: those that
// finished without asking (Items tells, finished), and those whose object
// under a union is of a type without the batch's field, or the field
// the batch's is under (graph's fieldsInOrder tells, Shaped) — without these, a person's groups and a
// group's members, asked by the assignees of one page, each waited for
// the items blocked in the other's batch until the timer. Once every item
// is accounted for, nothing more will join, and the batch runs without
// waiting for the timer. Its maps are made on first use.
type levels struct {
	mu    sync.Mutex
	items map[string]int
	// finished are the items of each page that have finished, and
	// waiting the batches of each page still waiting for askers.
	finished map[string][]itemKey
	waiting  map[string][]waiter
	// shapes are, by page and by the field (of the query's document) of
	// an object under a union or interface, the fields with resolvers
	// that each item's object there has (Shaped). The page is part of
	// the key: a fragment spread on two pages puts one field of the
	// document on both, and one page's items never ask in the other's
	// batches.
	shapes map[shapeAt][]shape
	// pages are the pages of the lists whose items' objects told their
	// shapes, by the list's field context (pageOf).
	pages map[*graphql.FieldContext]string
}

// shapeAt is where the objects of shapes are: a page, and the document's
// field of the object in each of its items.
type shapeAt struct {
	page   string
	object *ast.Field
}

// shape is the fields with resolvers of one item's object at a path: the
// only fields under that path the item can ask for.
type shape struct {
	item   itemKey
	fields []Named
}

// Named is a field of an object as a query names it: its alias (the key
// of its level's path, and of the batches there) and the schema's name.
// A batch's field is known by both: the types of a union may each have a
// field of one alias (a person's groups and a group's members, both as
// list), and these are read by different batchers at one level; the
// fields of one name and alias (a person's and a group's assignments)
// may be read in one batch, so an item's object with such a field may
// ask whatever its type.
type Named struct{ Alias, Name string }

// itemKey is one item of a list resolved by Items.
type itemKey struct {
	list *items
	i    int
}

// waiter is a batch waiting for the items of a page.
type waiter interface {
	finished(item itemKey)
	shaped(object *ast.Field, s shape)
}

// watch registers w as waiting for the items of page, and returns those
// that will not ask: the items already finished, and those whose object
// at the field object of the document has no field field (Shaped).
func (lv *levels) watch(page string, object *ast.Field, field Named, w waiter) []itemKey {
	lv.mu.Lock()
	defer lv.mu.Unlock()
	if lv.waiting == nil {
		lv.waiting = map[string][]waiter{}
	}
	lv.waiting[page] = append(lv.waiting[page], w)
	done := slices.Clone(lv.finished[page])
	if object != nil {
		for _, sh := range lv.shapes[shapeAt{page, object}] {
			if !slices.Contains(sh.fields, field) {
				done = append(done, sh.item)
			}
		}
	}
	return done
}

// shaped records that the object at the document's field object, in
// item s.item of page, has no fields with resolvers but s.fields, and
// tells the batches waiting for that page's items: a batch of another
// field under that object will not be asked by the item.
func (lv *levels) shaped(page string, object *ast.Field, s shape) {
	lv.mu.Lock()
	if lv.shapes == nil {
		lv.shapes = map[shapeAt][]shape{}
	}
	at := shapeAt{page, object}
	lv.shapes[at] = append(lv.shapes[at], s)
	ws := lv.waitingFor(page)
	lv.mu.Unlock()
	for _, w := range ws {
		w.shaped(object, s)
	}
}

// waitingFor is a copy of the batches waiting for page's items, to tell
// once mu is unlocked (a batch takes its batcher's lock, which comes
// before the levels'); mu is held.
func (lv *levels) waitingFor(page string) []waiter {
	if len(lv.waiting[page]) == 0 {
		return nil
	}
	return slices.Clone(lv.waiting[page])
}

// finish records that item of a list of page has finished, and tells the
// batches waiting for that page's items.
func (lv *levels) finish(page string, item itemKey) {
	lv.mu.Lock()
	if lv.items[page] == 0 {
		lv.mu.Unlock()
		return // no count: its batches wait for the timer anyway
	}
	if lv.finished == nil {
		lv.finished = map[string][]itemKey{}
	}
	lv.finished[page] = append(lv.finished[page], item)
	ws := lv.waitingFor(page)
	lv.mu.Unlock()
	for _, w := range ws {
		w.finished(item)
	}
}

// expect records that the page field resolving in ctx holds n items.
func (lv *levels) expect(ctx context.Context, n int) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return
	}
	key := stripped(fc.Path())
	lv.mu.Lock()
	if lv.items == nil {
		lv.items = map[string]int{}
	}
	lv.items[key] += n
	lv.mu.Unlock()
}

// place is where a field asks: its level, the page whose items ask at
// that level (page), how many they are (expected: 0 unknown), and the
// asking item.
type place struct {
	level, page string
	item        itemKey
	expected    int
}

// at is the place of the field resolving in ctx.
func (lv *levels) at(ctx context.Context) place {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return place{}
	}
	path := fc.Path()
	last := lastIndex(path)
	if last < 0 {
		return place{level: stripped(path), expected: 1}
	}
	if last < 1 {
		return place{level: stripped(path)}
	}
	p := place{level: stripped(path), page: stripped(path[:last-1]), item: innermostItem(ctx, fc)}
	lv.mu.Lock()
	p.expected = lv.items[p.page]
	lv.mu.Unlock()
	return p
}

// lastIndex is the position of path's last list index, -1 if none.
func lastIndex(path ast.Path) int {
	last := -1
	for i, e := range path {
		if _, ok := e.(ast.PathIndex); ok {
			last = i
		}
	}
	return last
}

// stripped is a path without its list indexes: the same for every item.
func stripped(p ast.Path) string {
	var b strings.Builder
	for _, e := range p {
		if name, ok := e.(ast.PathName); ok {
			b.WriteString(string(name))
			b.WriteByte('.')
		}
	}
	return b.String()
}

// batcher runs one fetch per level for the keys asked for at that level:
// as soon as the expected number of keys arrived, or after fallbackWait.
type batcher[K comparable, V any] struct {
	name    string
	levels  *levels
	fetch   func(ctx context.Context, keys []K) (map[K]V, error)
	mu      sync.Mutex
	pending map[string]*batch[K, V]
}

type batch[K comparable, V any] struct {
	b        *batcher[K, V]
	ctx      context.Context
	level    string
	keys     []K
	expected int
	// accounted are the items of the level's page that asked, or that
	// will not ask (finished, or shaped without the batch's field).
	accounted map[itemKey]bool
	// object is the document's field of the nearest object above the
	// batch's field in its item whose type is a union or interface
	// (Shaped), and field that object's field the batch's field is, or
	// is under (underAbstract); object is nil when there is none.
	object *ast.Field
	field  Named
	timer  *time.Timer
	done   chan struct{}
	vals   map[K]V
	err    error
}

// finished counts an item of the page that finished: one that never
// asked will not; the batch runs once every item is accounted for.
func (bt *batch[K, V]) finished(item itemKey) {
	b := bt.b
	b.mu.Lock()
	if b.pending[bt.level] != bt || bt.accounted[item] {
		b.mu.Unlock()
		return
	}
	bt.accounted[item] = true
	full := len(bt.accounted) >= bt.expected
	b.mu.Unlock()
	if full {
		bt.dispatch()
	}
}

// shaped counts an item whose object at the document's field object has
// no field of the alias and name of the batch's, or of the one it is
// under: it will not ask (a person among assignees that are people and
// groups never asks for a group's members, nor their totalCount).
func (bt *batch[K, V]) shaped(object *ast.Field, s shape) {
	if bt.object == object && !slices.Contains(s.fields, bt.field) {
		bt.finished(s.item)
	}
}

func (b *batcher[K, V]) load(ctx context.Context, key K) (V, error) {
	at := b.levels.at(ctx)
	level := at.level
	b.mu.Lock()
	bt := b.pending[level]
	if bt == nil {
		if b.pending == nil {
			b.pending = map[string]*batch[K, V]{}
		}
		bt = &batch[K, V]{b: b, ctx: ctx, level: level, expected: at.expected, done: make(chan struct{}), accounted: map[itemKey]bool{}}
		b.pending[level] = bt
		if at.expected != 1 {
			bt.timer = time.AfterFunc(fallbackWait, func() {
				if bt.dispatch() {
					telemetry.TimerBatch(ctx, b.name)
				}
			})
		}
		if at.expected > 1 {
			bt.object, bt.field = underAbstract(graphql.GetFieldContext(ctx))
			// Lock order: the batcher's, then the levels'.
			for _, item := range b.levels.watch(at.page, bt.object, bt.field, bt) {
				bt.accounted[item] = true
			}
		}
	}
	bt.keys = append(bt.keys, key)
	bt.accounted[at.item] = true
	full := bt.expected > 0 && len(bt.accounted) >= bt.expected
	b.mu.Unlock()
	// Whether it waits for the siblings still to ask (which may not have
	// begun: Items) or runs the batch's read itself, the caller blocks:
	// the fields after it in its object (Fields) start first. The read
	// alone would not start them: it runs in the context of the batch's
	// first asker, whose lists and objects it forks, not this one's.
	fork(ctx)
	if full {
		bt.dispatch()
	}
	<-bt.done
	if failed, ok := bt.err.(dataloadgen.MappedFetchError[K]); ok {
		return bt.vals[key], failed[key]
	}
	return bt.vals[key], bt.err
}

// dispatch runs bt's fetch (in the context of its first load), once,
// whoever calls first; it reports whether this call ran it.
func (bt *batch[K, V]) dispatch() bool {
	b := bt.b
	b.mu.Lock()
	if b.pending[bt.level] != bt {
		b.mu.Unlock()
		return false
	}
	delete(b.pending, bt.level)
	b.mu.Unlock()
	if bt.timer != nil {
		bt.timer.Stop()
	}
	bt.vals, bt.err = b.fetch(bt.ctx, bt.keys)
	close(bt.done)
	return true
}

// underAbstract is, for the field of fc, the document's field of the
// nearest object above it in its item (no list between) whose type is a
// union or interface, and the field of that object it is in (itself, or
// a connection's, as groups for groups { totalCount }): an item whose
// object there has no such field (Shaped) asks for nothing below it. It
// is nil when there is no such object. An object's type is abstract when
// its field's type is not that of the object resolved (an Assignee
// resolved as a Person).
func underAbstract(fc *graphql.FieldContext) (*ast.Field, Named) {
	for child, p := fc, fc.Parent; p != nil && p.Index == nil; child, p = p, p.Parent {
		if child.Field.Field == nil || p.Field.Field == nil || p.Field.Definition == nil {
			break
		}
		if child.Object != p.Field.Definition.Type.Name() {
			return p.Field.Field, Named{child.Field.Alias, child.Field.Name}
		}
	}
	return nil, Named{}
}

// innermostItem is the item of the innermost list (Items) that the field
// of fc is under: the same key whether the field is the item's own or
// one of an object's in it (Fields), as when the item finishes.
func innermostItem(ctx context.Context, fc *graphql.FieldContext) itemKey {
	l, _ := ctx.Value(itemsKey{}).(*items)
	for l != nil && !l.list {
		l = l.outer
	}
	for ; fc != nil; fc = fc.Parent {
		if fc.Index != nil {
			return itemKey{l, *fc.Index}
		}
	}
	return itemKey{l, -1}
}

// Shaped tells the request's levels that the object resolving in ctx, in
// an item of a list, has no fields with resolvers but those named: gqlgen
// collected them for the object's own type. An object under a union (an
// assignee that is a person, not a group) asks for no field of the
// union's other types, so the batches of those fields need not wait for
// its item.
func Shaped(ctx context.Context, fields []Named) {
	r, _ := ctx.Value(ctxKey{}).(*request)
	fc := graphql.GetFieldContext(ctx)
	if r == nil || fc == nil || fc.Field.Field == nil {
		return
	}
	ls := r.loaders.Load()
	if ls == nil {
		return // nothing read through loaders: no batch waits
	}
	if page, ok := ls.levels.pageOf(fc); ok {
		ls.levels.shaped(page, fc.Field.Field, shape{item: innermostItem(ctx, fc), fields: fields})
	}
}

// pageOf is the page of the item the field of fc is in, as a field of
// that item finds it (levels.at): the path, without list indexes, of the
// field holding the innermost list. It is worked out once per list (the
// objects of a list's items share it), and not at all when the field is
// in no list or in a list at the root (no page, as levels.at finds).
func (lv *levels) pageOf(fc *graphql.FieldContext) (string, bool) {
	for ; fc != nil && fc.Index == nil; fc = fc.Parent {
	}
	if fc == nil || fc.Parent == nil || fc.Parent.Parent == nil {
		return "", false
	}
	list := fc.Parent // the list's field: its items' fields' parent
	lv.mu.Lock()
	page, ok := lv.pages[list]
	lv.mu.Unlock()
	if ok {
		return page, true
	}
	page = stripped(list.Parent.Path())
	lv.mu.Lock()
	if lv.pages == nil {
		lv.pages = map[*graphql.FieldContext]string{}
	}
	lv.pages[list] = page
	lv.mu.Unlock()
	return page, true
}

package loaders

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
)

// How the items of a list are resolved: one after the other, in the
// goroutine that resolves the list, until one of them waits for its
// siblings.
//
// gqlgen resolves every item of a list in a goroutine of its own, so that
// a field of one item can wait for its siblings to join its batch. Most
// items never wait: their fields are columns, or records the page's reader
// primed (Loaders.Prime). For them the goroutines, their stacks' growth and
// the wake-ups cost more than the work (15–30% of the server's CPU per
// request on the bench's shapes). make generate points the generated code
// at Items instead (scripts/listitems).
//
// Items runs the items in order. A loader that is about to wait for the
// rest of its level calls fork first: every list the waiting field is in
// starts its items not yet begun, each in a goroutine, as gqlgen would have
// from the start. Those siblings then ask too, the batch fills and runs at
// once, and the level is still one statement.

type itemsKey struct{}

// items is one list being resolved by Items, or one object's fields
// being resolved by Fields.
type items struct {
	outer *items // the list or object this one is in, if any
	list  bool   // a list's items (Items), not an object's fields
	run   func(i int)
	n     int

	mu     sync.Mutex
	next   int  // the first item not yet begun
	forked bool // the items from next on run in goroutines of their own
	wg     sync.WaitGroup
}

// Items resolves the n items of a list with item, in order in this
// goroutine until a field of one of them waits for its siblings (fork). An
// item that panics resolves to null with the panic as its error, as in
// gqlgen's own list resolution.
func Items(ctx context.Context, n int, item func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	ret := make(graphql.Array, n)
	if n == 0 {
		return ret
	}
	l := &items{n: n, list: true}
	l.outer, _ = ctx.Value(itemsKey{}).(*items)
	done := finisher(ctx, l)
	ctx = context.WithValue(ctx, itemsKey{}, l)
	l.run = func(i int) {
		itemCtx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i})
		defer done(i)
		defer func() {
			if r := recover(); r != nil {
				graphql.AddError(itemCtx, graphql.Recover(itemCtx, r))
				ret[i] = graphql.Null
			}
		}()
		ret[i] = item(itemCtx, i)
	}
	l.resolve()
	return ret
}

// Fields resolves the n fields of an object that gqlgen would resolve each
// in a goroutine of its own (the fields with resolvers), field(ctx, k) for
// the k-th, in order in this goroutine until one of them is about to read
// or to wait for its siblings (fork): the rest then start in goroutines of
// their own, as gqlgen would have started them, so that reads of sibling
// fields (a person's assignments and groups) still run at once. Most
// objects' fields are columns and records read ahead, which never read.
// It is for n > 1: a single field has nothing to start beside it.
func Fields(ctx context.Context, n int, field func(ctx context.Context, k int)) {
	l := &items{n: n}
	l.outer, _ = ctx.Value(itemsKey{}).(*items)
	ctx = context.WithValue(ctx, itemsKey{}, l)
	l.run = func(k int) { field(ctx, k) }
	l.resolve()
}

// resolve runs the units (items or fields) in order until they are
// forked, and waits for those forked.
func (l *items) resolve() {
	for {
		l.mu.Lock()
		if l.forked || l.next == l.n {
			l.mu.Unlock()
			break
		}
		i := l.next
		l.next++
		l.mu.Unlock()
		l.run(i)
	}
	l.wg.Wait()
}

// fork starts, in goroutines of their own, the items and fields not yet
// begun of every list and object the field resolving in ctx is in: the
// caller is about to wait for siblings of its level, which may be in any
// of them, or to read, which its siblings need not wait for.
func fork(ctx context.Context) {
	for l, _ := ctx.Value(itemsKey{}).(*items); l != nil; l = l.outer {
		l.fork()
	}
}

func (l *items) fork() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.forked {
		return
	}
	l.forked = true
	for i := l.next; i < l.n; i++ {
		l.wg.Add(1)
		spawn(func() {
			defer l.wg.Done()
			l.run(i)
		})
	}
	l.next = l.n
}

// finisher returns what tells the request's levels that an item of list
// l, resolving in ctx, has finished: it will ask for nothing more, so
// batches of its page need not wait for it (levels.finish).
func finisher(ctx context.Context, l *items) func(i int) {
	r, _ := ctx.Value(ctxKey{}).(*request)
	fc := graphql.GetFieldContext(ctx)
	if r == nil || fc == nil {
		return func(int) {}
	}
	ls := r.loaders.Load()
	if ls == nil {
		return func(int) {} // nothing read through loaders: no page counted
	}
	list := fc.Path()
	if len(list) == 0 {
		return func(int) {}
	}
	page := stripped(list[:len(list)-1])
	return func(i int) { ls.levels.finish(page, itemKey{l, i}) }
}

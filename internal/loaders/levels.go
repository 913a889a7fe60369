package loaders

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vikstrous/dataloadgen"
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
type levels struct {
	mu    sync.Mutex
	items map[string]int
}

// expect records that the page field resolving in ctx holds n items.
func (lv *levels) expect(ctx context.Context, n int) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return
	}
	key := stripped(fc.Path())
	lv.mu.Lock()
	lv.items[key] += n
	lv.mu.Unlock()
}

// of is the level of the field resolving in ctx and how many times the
// field will be asked for at that level (0: unknown).
func (lv *levels) of(ctx context.Context) (string, int) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return "", 0
	}
	path := fc.Path()
	last := -1
	for i, e := range path {
		if _, ok := e.(ast.PathIndex); ok {
			last = i
		}
	}
	if last < 0 {
		return stripped(path), 1
	}
	if last < 1 {
		return stripped(path), 0
	}
	lv.mu.Lock()
	n := lv.items[stripped(path[:last-1])]
	lv.mu.Unlock()
	return stripped(path), n
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
	levels  *levels
	fetch   func(ctx context.Context, keys []K) (map[K]V, error)
	mu      sync.Mutex
	pending map[string]*batch[K, V]
}

type batch[K comparable, V any] struct {
	keys     []K
	expected int
	timer    *time.Timer
	done     chan struct{}
	vals     map[K]V
	err      error
}

func newBatcher[K comparable, V any](lv *levels, fetch func(ctx context.Context, keys []K) (map[K]V, error)) *batcher[K, V] {
	return &batcher[K, V]{levels: lv, fetch: fetch, pending: map[string]*batch[K, V]{}}
}

func (b *batcher[K, V]) load(ctx context.Context, key K) (V, error) {
	level, expected := b.levels.of(ctx)
	b.mu.Lock()
	bt := b.pending[level]
	if bt == nil {
		bt = &batch[K, V]{expected: expected, done: make(chan struct{})}
		b.pending[level] = bt
		if expected != 1 {
			bt.timer = time.AfterFunc(fallbackWait, func() { b.dispatch(ctx, level, bt) })
		}
	}
	bt.keys = append(bt.keys, key)
	full := bt.expected > 0 && len(bt.keys) >= bt.expected
	b.mu.Unlock()
	if full {
		b.dispatch(ctx, level, bt)
	} else {
		fork(ctx) // the siblings still to ask may not have begun (Items)
	}
	<-bt.done
	if failed, ok := bt.err.(dataloadgen.MappedFetchError[K]); ok {
		return bt.vals[key], failed[key]
	}
	return bt.vals[key], bt.err
}

// dispatch runs bt's fetch, once, whoever calls first.
func (b *batcher[K, V]) dispatch(ctx context.Context, level string, bt *batch[K, V]) {
	b.mu.Lock()
	if b.pending[level] != bt {
		b.mu.Unlock()
		return
	}
	delete(b.pending, level)
	b.mu.Unlock()
	if bt.timer != nil {
		bt.timer.Stop()
	}
	bt.vals, bt.err = b.fetch(ctx, bt.keys)
	close(bt.done)
}

package loaders

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"seatgraph/internal/telemetry"
)

// List batches per-parent reads that take arguments: parents asked for
// with equal arguments at one level of the query are read in one
// statement, as soon as every parent at that level has asked.
type List[A, V any] struct {
	name  string
	owner *Loaders
	read  func(ctx context.Context, l *Loaders, parents []uuid.UUID, a A) (map[uuid.UUID]V, error)
	mu    sync.Mutex
	args  map[string]A // made on first use
	batch batcher[listKey, V]
	ahead map[listKey]*readAhead[V] // pages read ahead (Ahead)
}

// readAhead is one page read before its field asked for it.
type readAhead[V any] struct {
	done chan struct{}
	val  V
	err  error
}

type listKey struct {
	parent uuid.UUID
	args   string
}

// sized is a value holding a page of items (paging.Page).
type sized interface{ Len() int }

// list readies l, whose batches, at the levels of owner, call read once
// per distinct A; name labels its batches in metrics and traces.
func list[A, V any](l *List[A, V], name string, owner *Loaders, read func(ctx context.Context, l *Loaders, parents []uuid.UUID, a A) (map[uuid.UUID]V, error)) *List[A, V] {
	*l = List[A, V]{name: name, owner: owner, read: read}
	l.batch = batcher[listKey, V]{name: name, levels: &owner.levels}
	return l
}

func (l *List[A, V]) fetchBatch(ctx context.Context, keys []listKey) (map[listKey]V, error) {
	return telemetry.Batch(ctx, l.name, keys, l.fetchEach)
}

// fetchEach reads the keys' values, one read per distinct arguments; the
// pages' items' own fields form the next level.
func (l *List[A, V]) fetchEach(ctx context.Context, keys []listKey) (map[listKey]V, error) {
	parents := map[string][]uuid.UUID{}
	for _, k := range keys {
		parents[k.args] = append(parents[k.args], k.parent)
	}
	out := make(map[listKey]V, len(keys))
	// A failure (such as a bad cursor) fails only the fields that asked
	// with those arguments, not their siblings in the batch.
	failed := dataloadgen.MappedFetchError[listKey]{}
	items := 0
	for args, ps := range parents {
		l.mu.Lock()
		a := l.args[args]
		l.mu.Unlock()
		vals, err := l.read(ctx, l.owner, ps, a)
		for _, p := range ps {
			if err != nil {
				failed[listKey{p, args}] = err
				continue
			}
			out[listKey{p, args}] = vals[p]
			items += size(vals[p])
		}
	}
	l.batch.levels.expect(ctx, items)
	if len(failed) > 0 {
		return out, failed
	}
	return out, nil
}

// size is the number of items of v when it is a page (sized), else 0.
func size[V any](v V) int {
	if s, ok := any(v).(sized); ok {
		return s.Len()
	}
	return 0
}

// key is the batch key of parent's value for arguments a.
func (l *List[A, V]) key(parent uuid.UUID, a A) (listKey, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return listKey{}, err
	}
	l.mu.Lock()
	if l.args == nil {
		l.args = map[string]A{}
		l.batch.fetch = l.fetchBatch
	}
	l.args[string(b)] = a
	l.mu.Unlock()
	return listKey{parent, string(b)}, nil
}

// Load reads parent's value for arguments a, or takes the read begun
// ahead for them (Ahead).
func (l *List[A, V]) Load(ctx context.Context, parent uuid.UUID, a A) (V, error) {
	key, err := l.key(parent, a)
	if err != nil {
		var zero V
		return zero, err
	}
	l.mu.Lock()
	r := l.ahead[key]
	l.mu.Unlock()
	if r == nil {
		return l.batch.load(ctx, key)
	}
	select {
	case <-r.done:
	default:
		// About to wait: the fields after this one start first, as
		// before any read (fork).
		fork(ctx)
		select {
		case <-r.done:
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
	}
	l.batch.levels.expect(ctx, size(r.val))
	return r.val, r.err
}

// Ahead begins reading parent's value for arguments a before any field
// asks for it, and returns at once: a root field's record's lists
// (person(id){ assignments }), which need the record's id, named by the
// query, and not its row, are read at the same time as the record. A Load
// for the same parent and arguments then takes this read. The read is
// one of the request's statements, cancelled with it (when its client goes
// away or it times out), as every other; but a request does not cancel a
// read it no longer needs, which would cost the pool its connection: what
// began it and finds no record waits on the channel returned, closed when
// the read has ended (nil when none began). Each record waits for its own
// reads: root fields run at once, and one that finds nothing must not
// wait for, nor race with, the reads its siblings begin.
func (l *List[A, V]) Ahead(ctx context.Context, parent uuid.UUID, a A) <-chan struct{} {
	key, err := l.key(parent, a)
	if err != nil {
		return nil // Load will report it
	}
	r := &readAhead[V]{done: make(chan struct{})}
	l.mu.Lock()
	if began, ok := l.ahead[key]; ok {
		l.mu.Unlock()
		return began.done
	}
	if l.ahead == nil {
		l.ahead = map[listKey]*readAhead[V]{}
	}
	l.ahead[key] = r
	l.mu.Unlock()
	spawn(func() {
		defer close(r.done)
		// A read that panics fails the field that takes it, as a panic
		// in the field's own goroutine would (gqlgen's recover), rather
		// than the whole process.
		defer func() {
			if v := recover(); v != nil {
				r.err = graphql.GetOperationContext(ctx).Recover(ctx, v)
			}
		}()
		// Read with a itself: the arguments kept under its key are those
		// of the last Load, equal in the key but not in what is no part
		// of it (AssignmentArgs.Beside).
		vals, err := telemetry.Batch(ctx, l.name, []uuid.UUID{parent},
			func(ctx context.Context, parents []uuid.UUID) (map[uuid.UUID]V, error) {
				return l.read(ctx, l.owner, parents, a)
			})
		r.val, r.err = vals[parent], err
	})
	return r.done
}

// forget forgets the pages read ahead.
func (l *List[A, V]) forget() {
	l.mu.Lock()
	clear(l.ahead)
	l.mu.Unlock()
}

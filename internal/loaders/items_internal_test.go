package loaders

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// TestFieldsInOrderUntilFork: an object's fields run one after the other
// in the caller's goroutine; a field that forks (it is about to read or
// wait) lets the fields after it start, so that one can wait for a later
// sibling without a deadlock.
func TestFieldsInOrderUntilFork(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var order []int
	Fields(ctx, 3, func(ctx context.Context, k int) {
		mu.Lock()
		order = append(order, k)
		mu.Unlock()
	})
	if want := []int{0, 1, 2}; !slices.Equal(order, want) {
		t.Fatalf("without a fork the fields ran in the order %v, want %v", order, want)
	}

	// Field 0 waits for field 2, as a field waits for a batch its
	// siblings fill: it must fork first, and then nothing waits forever.
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		Fields(ctx, 3, func(ctx context.Context, k int) {
			switch k {
			case 0:
				fork(ctx)
				<-done
			case 2:
				close(done)
			}
		})
	}()
	select {
	case <-finished:
	case <-time.After(10 * time.Second):
		t.Fatal("a field that forked and waited for a later sibling never finished: fork did not start it")
	}
}

// TestForkReachesEnclosingLists: a field of an object in a list item that
// forks starts the list's items not yet begun too (their fields may be the
// siblings it waits for).
func TestForkReachesEnclosingLists(t *testing.T) {
	ctx := context.Background()
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		Items(ctx, 2, func(ctx context.Context, i int) graphql.Marshaler {
			Fields(ctx, 2, func(ctx context.Context, k int) {
				switch {
				case i == 0 && k == 0:
					fork(ctx)
					<-done // item 1 closes it
				case i == 1 && k == 1:
					close(done)
				}
			})
			return nil
		})
	}()
	select {
	case <-finished:
	case <-time.After(10 * time.Second):
		t.Fatal("fork in an item's field did not start the list's next item")
	}
}

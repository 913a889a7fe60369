package loaders

import (
	"context"
	"errors"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
)

// TestReadAheadPanicFailsItsField: a list read begun ahead that panics
// (in a goroutine of its own, where nothing of gqlgen's would recover it)
// fails the field that takes it, with the operation's error for a panic,
// and the process goes on.
func TestReadAheadPanicFailsItsField(t *testing.T) {
	recovered := errors.New("internal server error")
	ctx := graphql.WithOperationContext(context.Background(), &graphql.OperationContext{
		RecoverFunc: func(context.Context, any) error { return recovered },
	})
	owner := New(nil)
	var l List[int, []string]
	list(&l, "Panics", owner, func(context.Context, *Loaders, []uuid.UUID, int) (map[uuid.UUID][]string, error) {
		panic("a read gone wrong")
	})
	parent := uuid.New()
	<-l.Ahead(ctx, parent, 1)
	v, err := l.Load(ctx, parent, 1)
	if !errors.Is(err, recovered) || v != nil {
		t.Fatalf("Load after a read ahead that panicked: %v, %v; want the recovered error", v, err)
	}
}

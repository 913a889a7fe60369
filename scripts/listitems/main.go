// Command listitems points gqlgen's generated list resolution at
// loaders.Items (through graph.resolveItems): make generate runs it on
// graph/generated.go after gqlgen. gqlgen resolves every item of a list
// in a goroutine of its own and has no setting for it; Items resolves them
// in order and starts goroutines only when an item's field waits for its
// siblings (internal/loaders/items.go says why).
//
// It fails when the call it replaces is not found, so that a gqlgen
// upgrade that changes the generated code is noticed, not silently kept.
package main

import (
	"bytes"
	"fmt"
	"os"
)

const (
	gqlgenCall = "graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {"
	itemsCall  = "resolveItems(ctx, len(v), func(ctx context.Context, i int) graphql.Marshaler {"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: listitems graph/generated.go")
		os.Exit(2)
	}
	if err := rewrite(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "listitems:", err)
		os.Exit(1)
	}
}

func rewrite(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	n := bytes.Count(src, []byte(gqlgenCall))
	if n == 0 {
		return fmt.Errorf("%s: no %q: has gqlgen's generated code changed?", path, gqlgenCall)
	}
	out := bytes.ReplaceAll(src, []byte(gqlgenCall), []byte(itemsCall))
	if bytes.Contains(out, []byte("MarshalSliceConcurrently")) {
		return fmt.Errorf("%s: a MarshalSliceConcurrently call of another form is left", path)
	}
	return os.WriteFile(path, out, 0o644)
}

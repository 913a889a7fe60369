// Command listitems makes two changes to gqlgen's generated code, which
// gqlgen has no setting for; make generate runs it on graph/generated.go
// after gqlgen.
//
//   - List resolution goes through loaders.Items (graph.resolveItems):
//     gqlgen resolves every item of a list in a goroutine of its own; Items
//     resolves them in order and starts goroutines only when an item's
//     field waits for its siblings (internal/loaders/items.go says why).
//   - Objects are resolved without a deferred group: gqlgen makes one for
//     every object (its path, a field set and a map: a tenth of the bytes
//     a request allocates) for the fields an operation defers, and the
//     server refuses every operation that defers (internal/httpapi,
//     noDefer), so the group is always empty.
//   - An object's fields with resolvers go through graph.fieldsInOrder
//     (loaders.Fields): gqlgen resolves each of them but one in a goroutine
//     of its own; fieldsInOrder resolves them in order and starts
//     goroutines only when one of them reads. It is given each field of the
//     document: an object under a union tells the loaders which fields it
//     has (loaders.Shaped).
//   - A leaf field read from its object's struct skips gqlgen's field
//     machinery when the field middleware has nothing to check for it
//     (graph.plainLeaf; leaves.go says which fields and why), and so do
//     the few resolvers that answer from their object and the request
//     alone (resolvers.go).
//
// It fails when a call it replaces is not found, so that a gqlgen upgrade
// that changes the generated code is noticed, not silently kept.
package main

import (
	"bytes"
	"fmt"
	"os"
)

// replacements are the calls replaced, and what replaces them.
var replacements = []struct{ gqlgen, ours, left string }{
	{
		gqlgen: "graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {",
		ours:   "resolveItems(ctx, len(v), func(ctx context.Context, i int) graphql.Marshaler {",
		left:   "MarshalSliceConcurrently",
	},
	{
		gqlgen: "deferred := graphql.NewDeferredGroup(ctx)",
		ours:   "deferred, later := graphql.DeferredGroup{}, fieldsInOrder{} // nothing is deferred; fields in order (scripts/listitems)",
		left:   "NewDeferredGroup",
	},
	{
		gqlgen: "out.ResolveConcurrently(ec.OperationContext, &deferred, i,",
		ours:   "later.add(ec.OperationContext, i, field.Field,",
		left:   ".ResolveConcurrently(",
	},
	{
		gqlgen: "out.Dispatch(ctx)",
		ours:   "later.dispatch(ctx, out)",
		left:   "out.Dispatch(",
	},
}

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
	for _, r := range replacements {
		if !bytes.Contains(src, []byte(r.gqlgen)) {
			return fmt.Errorf("%s: no %q: has gqlgen's generated code changed?", path, r.gqlgen)
		}
		src = bytes.ReplaceAll(src, []byte(r.gqlgen), []byte(r.ours))
		if bytes.Contains(src, []byte(r.left)) {
			return fmt.Errorf("%s: a %s call of another form is left", path, r.left)
		}
	}
	src, err = plainLeaves(src)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	src, err = plainResolverFields(src)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, src, 0o644)
}

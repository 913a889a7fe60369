package graph

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"seatgraph/graph/model"
	"seatgraph/internal/gid"
	"seatgraph/internal/loaders"
	"seatgraph/internal/problem"
	"seatgraph/models"
)

// node resolves any TypeID through the loader of its kind; an id that
// names nothing the caller can see resolves to null.
func node(ctx context.Context, id string) (model.Node, error) {
	kind, u, err := gid.Parse(id)
	if err != nil {
		return nil, problem.InvalidInput("id", err)
	}
	if err := permit(ctx, readScope[kind]); err != nil {
		return nil, err
	}
	l := loaders.For(ctx)
	switch kind {
	case gid.License:
		return nilIfMissing(loaders.Get(ctx, l.License, u))
	case gid.Assignment:
		return nilIfMissing(loaders.Get(ctx, l.Assignment, u))
	case gid.Person:
		return nilIfMissing(loaders.Get(ctx, l.Person, u))
	case gid.Group:
		return nilIfMissing(loaders.Get(ctx, l.Group, u))
	default:
		return nilIfMissing(loaders.Get(ctx, l.Event, u))
	}
}

// nodes resolves many TypeIDs; the loads of each kind share one batch.
func nodes(ctx context.Context, ids []string) ([]model.Node, error) {
	type result struct {
		n   model.Node
		err error
	}
	results := make([]chan result, len(ids))
	for i, id := range ids {
		results[i] = make(chan result, 1)
		go func() {
			n, err := node(ctx, id)
			results[i] <- result{n, err}
		}()
	}
	out := make([]model.Node, len(ids))
	for i := range ids {
		r := <-results[i]
		if r.err != nil {
			return nil, r.err
		}
		out[i] = r.n
	}
	return out, nil
}

// byTypeID loads the record of kind k named by id.
func byTypeID[T any](ctx context.Context, k gid.Kind, id string, l *loaders.ByID[T]) (*T, error) {
	u, err := k.Parse(id)
	if err != nil {
		return nil, problem.InvalidInput("id", err)
	}
	return l.Now(ctx, u)
}

// nilIfMissing turns a missing record into an untyped nil, so that an
// interface-typed result is null rather than a typed nil pointer.
func nilIfMissing[T any](v *T, err error) (any, error) {
	if v == nil || err != nil {
		return nil, err
	}
	return v, nil
}

// assigneeField reads a contact field off an assignment's person.
func assigneeField(ctx context.Context, a *models.Assignment, field func(*models.Person) *string) (*string, error) {
	p, err := loaders.GetPtr(ctx, loaders.For(ctx).Person, a.PersonID)
	if p == nil || err != nil {
		return nil, err
	}
	return field(p), nil
}

// asset is the reference to a TechnologyAsset owned by another subgraph.
func asset(id *string) *model.TechnologyAsset {
	if id == nil {
		return nil
	}
	return &model.TechnologyAsset{ID: *id}
}

// entities resolves a batch of federation representations of kind k with
// one loader batch; an id the caller cannot see resolves to null.
func entities[R, T any](ctx context.Context, k gid.Kind, l *loaders.ByID[T], reps []R, idOf func(R) string) ([]*T, error) {
	if err := permit(ctx, readScope[k]); err != nil {
		return nil, err
	}
	keys := make([]uuid.UUID, len(reps))
	for i, r := range reps {
		u, err := k.Parse(idOf(r))
		if err != nil {
			return nil, problem.InvalidInput("representations", err)
		}
		keys[i] = u
	}
	out, err := l.LoadAll(ctx, keys)
	if err != nil && !onlyNotFound(err) {
		return nil, err
	}
	return out, nil
}

// onlyNotFound reports whether a batch failed only for missing keys.
func onlyNotFound(err error) bool {
	var errs dataloadgen.ErrorSlice
	if !errors.As(err, &errs) {
		return errors.Is(err, dataloadgen.ErrNotFound)
	}
	for _, e := range errs {
		if e != nil && !errors.Is(e, dataloadgen.ErrNotFound) {
			return false
		}
	}
	return true
}

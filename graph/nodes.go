package graph

import (
	"context"

	"github.com/google/uuid"

	"seatgraph/graph/model"
	"seatgraph/internal/gid"
	"seatgraph/internal/loaders"
	"seatgraph/internal/problem"
	"seatgraph/models"
)

// node resolves any TypeID at once (a root field: nothing else at its
// level will ask); an id that names nothing the caller can see resolves to
// null.
func node(ctx context.Context, id string) (model.Node, error) {
	out, err := nodes(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// nodes resolves many TypeIDs at once: one statement per kind named.
func nodes(ctx context.Context, ids []string) ([]model.Node, error) {
	byKind := map[gid.Kind][]uuid.UUID{}
	us := make([]uuid.UUID, len(ids))
	for i, id := range ids {
		kind, u, err := gid.Parse(id)
		if err != nil {
			return nil, problem.InvalidInput("id", err)
		}
		if err := permit(ctx, readScope[kind]); err != nil {
			return nil, err
		}
		byKind[kind] = append(byKind[kind], u)
		us[i] = u
	}
	l := loaders.For(ctx)
	found := map[uuid.UUID]model.Node{}
	for kind, ofKind := range byKind {
		var err error
		switch kind {
		case gid.License:
			err = collect(ctx, l.License, ofKind, found)
		case gid.Assignment:
			err = collect(ctx, l.Assignment, ofKind, found)
		case gid.Person:
			err = collect(ctx, l.Person, ofKind, found)
		case gid.Group:
			err = collect(ctx, l.Group, ofKind, found)
		default:
			err = collect(ctx, l.Event, ofKind, found)
		}
		if err != nil {
			return nil, err
		}
	}
	out := make([]model.Node, len(ids))
	for i, u := range us {
		out[i] = found[u]
	}
	return out, nil
}

// collect reads the records of ids through l into found; a record that
// names nothing visible is left out (the node is null).
func collect[T any](ctx context.Context, l *loaders.ByID[T], ids []uuid.UUID, found map[uuid.UUID]model.Node) error {
	records, err := l.Many(ctx, ids)
	for i, r := range records {
		if r != nil {
			found[ids[i]] = r
		}
	}
	return err
}

// byTypeID loads the record of kind k named by id.
func byTypeID[T any](ctx context.Context, k gid.Kind, id string, l *loaders.ByID[T]) (*T, error) {
	u, err := k.Parse(id)
	if err != nil {
		return nil, problem.InvalidInput("id", err)
	}
	reads := readAhead(ctx, u)
	v, err := l.Now(ctx, u)
	if v == nil || err != nil {
		// No record: no field will take the pages read ahead; they end
		// with the request, not after it.
		for _, done := range reads {
			if done != nil {
				<-done
			}
		}
	}
	return v, err
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
// one statement, at once; an id the caller cannot see resolves to null.
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
	return l.Many(ctx, keys)
}

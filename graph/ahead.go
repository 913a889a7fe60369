package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"seatgraph/internal/licensing"
	"seatgraph/internal/loaders"
	"seatgraph/internal/paging"
)

// readAhead begins reading the lists that the query selects on the record
// a root field looks up by id (person(id){ assignments groups }), before
// the record itself is read: a list needs its parent's id, which the query
// names, not its row. So the record and its lists take one round trip
// together, not one after the other. The resolvers of those lists then
// find their pages read (loaders.List.Ahead).
//
// A list is read ahead only when its resolver would read exactly that: its
// arguments are a page alone (no filter, no order, which would need
// gqlgen's own decoding of the input objects) and the caller holds the
// field's scope. Anything else is read by its resolver, as without this.
// When the record turns out not to exist, the pages read ahead are
// dropped: the lists of a record the caller cannot see are never shown.
// The reads begun end when the channels returned are closed.
func readAhead(ctx context.Context, id uuid.UUID) []<-chan struct{} {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || fc.Field.Definition == nil {
		return nil
	}
	var reads []<-chan struct{}
	object := fc.Field.Definition.Type.Name()
	op := graphql.GetOperationContext(ctx)
	l := loaders.For(ctx)
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if !permitted(ctx, object, f.Name) {
			continue
		}
		page, ok := pageOnly(f.ArgumentMap(op.Variables))
		if !ok {
			continue
		}
		switch object + "." + f.Name {
		case "License.assignments", "Person.assignments", "Group.assignments":
			parent := assignmentParents[object]
			reads = append(reads, l.Assignments.Ahead(ctx, id, loaders.AssignmentArgs{By: parent.by, Page: page,
				Prime:  relatedTo(op, graphql.CollectFields(op, f.Selections, nil)),
				Beside: loaders.Record{Kind: parent.kind, ID: id}}))
		case "Person.groups":
			reads = append(reads, l.Groups.Ahead(ctx, id, loaders.GroupArgs{Page: page}))
		case "Group.members":
			reads = append(reads, l.Members.Ahead(ctx, id, loaders.MemberArgs{Page: page}))
		}
	}
	return reads
}

// assignmentParents is, for each record with assignments, what they are
// listed by, and the record's kind among the records related to them.
var assignmentParents = map[string]struct{ by, kind string }{
	"License": {licensing.ByLicense, loaders.PrimeLicense},
	"Person":  {licensing.ByPerson, loaders.PrimePerson},
	"Group":   {licensing.ByGroup, loaders.PrimeGroup},
}

// pageOnly is a list field's arguments as the page they ask for, when
// they are a page alone (first, after, last, before).
func pageOnly(args map[string]any) (paging.Args, bool) {
	var page paging.Args
	for name, v := range args {
		if v == nil {
			continue // null, as if absent
		}
		var err error
		switch name {
		case "first":
			page.First, err = intArg(v)
		case "last":
			page.Last, err = intArg(v)
		case "after":
			page.After, err = stringArg(v)
		case "before":
			page.Before, err = stringArg(v)
		default:
			return paging.Args{}, false
		}
		if err != nil {
			return paging.Args{}, false // the resolver reports it
		}
	}
	return page, true
}

func intArg(v any) (*int, error) {
	n, err := graphql.UnmarshalInt(v)
	return &n, err
}

func stringArg(v any) (*string, error) {
	s, err := graphql.UnmarshalString(v)
	return &s, err
}

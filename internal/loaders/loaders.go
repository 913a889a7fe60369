// Package loaders batches the lookups of one request: every lookup by id,
// and every per-parent list, becomes one SQL statement per batch whatever
// the number of parents. Loaders are made per request and never shared.
package loaders

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"seatgraph/internal/directory"
	"seatgraph/internal/economics"
	"seatgraph/internal/licensing"
	"seatgraph/internal/paging"
	"seatgraph/internal/store"
	"seatgraph/internal/telemetry"
	"seatgraph/models"
)

// wait is how long a loader collects keys before it runs its batch: long
// enough for the sibling resolvers of a list to ask, short enough not to
// matter to a request's latency.
const wait = 5 * time.Millisecond

// AssignmentArgs selects a page of each parent's assignments.
type AssignmentArgs struct {
	By     string
	Filter *licensing.AssignmentFilter
	Order  *licensing.AssignmentOrder
	Page   paging.Args
	// Prime names the related records the query selects on the page's
	// assignments (Person, Group, License); they are queued in one batch
	// as soon as the page is read, so that the thousands of resolvers that
	// ask for them later, spread over time, find them loaded.
	Prime []string
}

// Related records an assignment page can prime.
const (
	PrimePerson  = "Person"
	PrimeGroup   = "Group"
	PrimeLicense = "License"
)

// MemberArgs selects a page of each group's members.
type MemberArgs struct {
	Filter *directory.PersonFilter
	Order  *directory.PersonOrder
	Page   paging.Args
}

// GroupArgs selects a page of each person's groups.
type GroupArgs struct {
	Filter *directory.GroupFilter
	Order  *directory.GroupOrder
	Page   paging.Args
}

// Loaders are one request's batching loaders.
type Loaders struct {
	Session *store.Session

	License    *dataloadgen.Loader[uuid.UUID, *models.License]
	Assignment *dataloadgen.Loader[uuid.UUID, *models.Assignment]
	Person     *dataloadgen.Loader[uuid.UUID, *models.Person]
	Group      *dataloadgen.Loader[uuid.UUID, *models.Group]
	Event      *dataloadgen.Loader[uuid.UUID, *models.AssignmentEvent]

	Assignments      *List[AssignmentArgs, paging.Page[*models.Assignment]]
	AssignmentCounts *List[AssignmentArgs, int]
	Members          *List[MemberArgs, paging.Page[*directory.Member]]
	MemberCounts     *List[MemberArgs, int]
	Groups           *List[GroupArgs, paging.Page[*directory.Membership]]
	GroupCounts      *List[GroupArgs, int]
	Events           *List[paging.Args, paging.Page[*models.AssignmentEvent]]
	EventCounts      *List[paging.Args, int]
	Entitlements     *dataloadgen.Loader[uuid.UUID, []licensing.Entitlement]
	Utilization      *List[economics.UtilizationArgs, []*economics.Bucket]
	Usage            *List[int, *economics.Usage]
}

// New makes the loaders of one request, reading through sess.
func New(sess *store.Session) *Loaders {
	l := &Loaders{
		Session:    sess,
		License:    byID("License", sess, licensing.LicensesByID),
		Assignment: byID("Assignment", sess, licensing.AssignmentsByID),
		Person:     byID("Person", sess, directory.PeopleByID),
		Group:      byID("Group", sess, directory.GroupsByID),
		Event:      byID("Event", sess, licensing.EventsByID),

		AssignmentCounts: newList("AssignmentCounts", func(ctx context.Context, parents []uuid.UUID, a AssignmentArgs) (map[uuid.UUID]int, error) {
			return licensing.AssignmentList(a.Filter, nil).CountEach(ctx, sess, parents, a.By)
		}),
		Members: newList("Members", func(ctx context.Context, parents []uuid.UUID, a MemberArgs) (map[uuid.UUID]paging.Page[*directory.Member], error) {
			return directory.MemberList(a.Filter, a.Order).ReadEach(ctx, sess, directory.MembersOf, parents, directory.MemberGroup, a.Page)
		}),
		MemberCounts: newList("MemberCounts", func(ctx context.Context, parents []uuid.UUID, a MemberArgs) (map[uuid.UUID]int, error) {
			return directory.MemberList(a.Filter, nil).CountEach(ctx, sess, parents, directory.MembersOf)
		}),
		Groups: newList("Groups", func(ctx context.Context, parents []uuid.UUID, a GroupArgs) (map[uuid.UUID]paging.Page[*directory.Membership], error) {
			return directory.GroupsOfList(a.Filter, a.Order).ReadEach(ctx, sess, directory.GroupsOf, parents, directory.MembershipPerson, a.Page)
		}),
		GroupCounts: newList("GroupCounts", func(ctx context.Context, parents []uuid.UUID, a GroupArgs) (map[uuid.UUID]int, error) {
			return directory.GroupsOfList(a.Filter, nil).CountEach(ctx, sess, parents, directory.GroupsOf)
		}),
		Events: newList("Events", func(ctx context.Context, parents []uuid.UUID, a paging.Args) (map[uuid.UUID]paging.Page[*models.AssignmentEvent], error) {
			return licensing.EventList().ReadEach(ctx, sess, licensing.EventParent, parents, licensing.EventAssignment, a)
		}),
		EventCounts: newList("EventCounts", func(ctx context.Context, parents []uuid.UUID, _ paging.Args) (map[uuid.UUID]int, error) {
			return licensing.EventList().CountEach(ctx, sess, parents, licensing.EventParent)
		}),
		Utilization: newList("Utilization", func(ctx context.Context, ids []uuid.UUID, a economics.UtilizationArgs) (map[uuid.UUID][]*economics.Bucket, error) {
			return economics.Utilization(ctx, sess, ids, a)
		}),
		Usage: newList("Usage", func(ctx context.Context, ids []uuid.UUID, inactiveDays int) (map[uuid.UUID]*economics.Usage, error) {
			return economics.LicenseUsage(ctx, sess, ids, inactiveDays)
		}),
		Entitlements: dataloadgen.NewMappedLoader(telemetry.Batched("Entitlements", func(ctx context.Context, people []uuid.UUID) (map[uuid.UUID][]licensing.Entitlement, error) {
			return licensing.Entitlements(ctx, sess, people)
		}), dataloadgen.WithWait(wait)),
	}
	l.Assignments = newList("Assignments", func(ctx context.Context, parents []uuid.UUID, a AssignmentArgs) (map[uuid.UUID]paging.Page[*models.Assignment], error) {
		pages, err := licensing.AssignmentList(a.Filter, a.Order).ReadEach(ctx, sess, a.By, parents, licensing.ParentOf(a.By), a.Page)
		for _, p := range pages {
			l.Prime(ctx, p.Items, a.Prime)
		}
		return pages, err
	})
	return l
}

// EndReadsForWrite is the step between a request's reads and a write: it
// ends the request's read transaction (so the request holds no connection
// while the write waits for one) and forgets everything the loaders have
// read (so that reads after the write see it).
func (l *Loaders) EndReadsForWrite() error {
	err := l.Session.Close()
	l.forget()
	return err
}

// forget forgets everything the loaders have read.
func (l *Loaders) forget() {
	l.License.ClearAll()
	l.Assignment.ClearAll()
	l.Person.ClearAll()
	l.Group.ClearAll()
	l.Event.ClearAll()
	l.Entitlements.ClearAll()
	for _, c := range []interface{ clear() }{l.Assignments, l.AssignmentCounts, l.Members, l.MemberCounts,
		l.Groups, l.GroupCounts, l.Events, l.EventCounts, l.Utilization, l.Usage} {
		c.clear()
	}
}

// Prime queues the loads of the records related to assignments that the
// query will ask for (want: PrimePerson, PrimeGroup, PrimeLicense), all
// from this goroutine, so they share one batch per loader.
func (l *Loaders) Prime(ctx context.Context, assignments []*models.Assignment, want []string) {
	{
		for _, a := range assignments {
			for _, w := range want {
				switch w {
				case PrimePerson:
					for _, id := range []*uuid.UUID{a.PersonID, a.AssignedByPersonID} {
						if id != nil {
							l.Person.LoadThunk(ctx, *id)
						}
					}
				case PrimeGroup:
					for _, id := range []*uuid.UUID{a.GroupID, a.ViaGroupID} {
						if id != nil {
							l.Group.LoadThunk(ctx, *id)
						}
					}
				case PrimeLicense:
					l.License.LoadThunk(ctx, a.LicenseID)
				}
			}
		}
	}
}

func byID[T any](name string, sess *store.Session, fetch func(context.Context, *store.Session, []uuid.UUID) (map[uuid.UUID]T, error)) *dataloadgen.Loader[uuid.UUID, T] {
	return dataloadgen.NewMappedLoader(telemetry.Batched(name, func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]T, error) {
		return fetch(ctx, sess, ids)
	}), dataloadgen.WithWait(wait))
}

// Get loads one record by id; a record that does not exist (or is not
// visible to the caller) is nil, not an error.
func Get[T any](ctx context.Context, l *dataloadgen.Loader[uuid.UUID, *T], id uuid.UUID) (*T, error) {
	v, err := l.Load(ctx, id)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, nil
	}
	return v, err
}

// GetPtr is Get for an optional id.
func GetPtr[T any](ctx context.Context, l *dataloadgen.Loader[uuid.UUID, *T], id *uuid.UUID) (*T, error) {
	if id == nil {
		return nil, nil
	}
	return Get(ctx, l, *id)
}

type ctxKey struct{}

// With returns ctx carrying l.
func With(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// For returns the request's loaders.
func For(ctx context.Context) *Loaders {
	return ctx.Value(ctxKey{}).(*Loaders)
}

// List batches per-parent reads that take arguments: parents asked for
// with equal arguments are read in one statement.
type List[A, V any] struct {
	mu     sync.Mutex
	args   map[string]A
	loader *dataloadgen.Loader[listKey, V]
}

type listKey struct {
	parent uuid.UUID
	args   string
}

// newList makes a List whose batches call fetch once per distinct A;
// name labels its batches in metrics and traces.
func newList[A, V any](name string, fetch func(ctx context.Context, parents []uuid.UUID, a A) (map[uuid.UUID]V, error)) *List[A, V] {
	l := &List[A, V]{args: map[string]A{}}
	l.loader = dataloadgen.NewMappedLoader(telemetry.Batched(name, func(ctx context.Context, keys []listKey) (map[listKey]V, error) {
		parents := map[string][]uuid.UUID{}
		for _, k := range keys {
			parents[k.args] = append(parents[k.args], k.parent)
		}
		out := make(map[listKey]V, len(keys))
		// A failure (such as a bad cursor) fails only the fields that
		// asked with those arguments, not their siblings in the batch.
		failed := dataloadgen.MappedFetchError[listKey]{}
		for args, ps := range parents {
			l.mu.Lock()
			a := l.args[args]
			l.mu.Unlock()
			vals, err := fetch(ctx, ps, a)
			for _, p := range ps {
				if err != nil {
					failed[listKey{p, args}] = err
				} else {
					out[listKey{p, args}] = vals[p]
				}
			}
		}
		if len(failed) > 0 {
			return out, failed
		}
		return out, nil
	}), dataloadgen.WithWait(wait))
	return l
}

func (l *List[A, V]) clear() { l.loader.ClearAll() }

// Load reads parent's value for arguments a.
func (l *List[A, V]) Load(ctx context.Context, parent uuid.UUID, a A) (V, error) {
	b, err := json.Marshal(a)
	if err != nil {
		var zero V
		return zero, err
	}
	l.mu.Lock()
	l.args[string(b)] = a
	l.mu.Unlock()
	return l.loader.Load(ctx, listKey{parent, string(b)})
}

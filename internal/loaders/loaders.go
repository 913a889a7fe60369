// Package loaders batches the lookups of one request: every lookup by id,
// and every per-parent list, becomes one SQL statement per batch whatever
// the number of parents. Loaders are made per request and never shared.
package loaders

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"

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

// AssignmentArgs selects a page of each parent's assignments.
type AssignmentArgs struct {
	By     string
	Filter *licensing.AssignmentFilter
	Order  *licensing.AssignmentOrder
	Page   paging.Args
	// Prime names the related records the query selects on the page's
	// assignments (Person, Group, License); they are read as soon as the
	// page is, so that the resolvers that ask for them find them loaded.
	Prime []string
	// Beside is the record read by id at the same time as the page: the
	// root field's record whose lists are read ahead (List.Ahead). The
	// related records leave it out: its own read keeps it before any item
	// of the page asks for it, and reading it again would cost a
	// statement. It is no part of the arguments' key.
	Beside Record `json:"-"`
}

// Record names one record: its kind (PrimePerson, PrimeGroup,
// PrimeLicense) and id.
type Record struct {
	Kind string
	ID   uuid.UUID
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

	License    *ByID[models.License]
	Assignment *ByID[models.Assignment]
	Person     *ByID[models.Person]
	Group      *ByID[models.Group]
	Event      *ByID[models.AssignmentEvent]

	Assignments      *List[AssignmentArgs, paging.Page[*models.Assignment]]
	AssignmentCounts *List[AssignmentArgs, int]
	Members          *List[MemberArgs, paging.Page[*directory.Member]]
	MemberCounts     *List[MemberArgs, int]
	Groups           *List[GroupArgs, paging.Page[*directory.Membership]]
	GroupCounts      *List[GroupArgs, int]
	Events           *List[paging.Args, paging.Page[*models.AssignmentEvent]]
	EventCounts      *List[paging.Args, int]
	Entitlements     *List[struct{}, []licensing.Entitlement]
	Utilization      *List[economics.UtilizationArgs, []*economics.Bucket]
	Usage            *List[int, *economics.Usage]
	ReclaimPolicy    *List[struct{}, *models.ReclaimPolicy]

	// The loaders themselves, in the one allocation of a request's
	// Loaders: the fields above point into it.
	parts  parts
	levels levels
}

type parts struct {
	license    ByID[models.License]
	assignment ByID[models.Assignment]
	person     ByID[models.Person]
	group      ByID[models.Group]
	event      ByID[models.AssignmentEvent]

	assignments      List[AssignmentArgs, paging.Page[*models.Assignment]]
	assignmentCounts List[AssignmentArgs, int]
	members          List[MemberArgs, paging.Page[*directory.Member]]
	memberCounts     List[MemberArgs, int]
	groups           List[GroupArgs, paging.Page[*directory.Membership]]
	groupCounts      List[GroupArgs, int]
	events           List[paging.Args, paging.Page[*models.AssignmentEvent]]
	eventCounts      List[paging.Args, int]
	entitlements     List[struct{}, []licensing.Entitlement]
	utilization      List[economics.UtilizationArgs, []*economics.Bucket]
	usage            List[int, *economics.Usage]
	reclaimPolicy    List[struct{}, *models.ReclaimPolicy]
}

// New makes the loaders of one request, reading through sess. It is one
// allocation: each loader makes what it keeps when it is first used (most
// requests use two or three of them).
func New(sess *store.Session) *Loaders {
	l := &Loaders{Session: sess}
	p := &l.parts
	l.License = byID(&p.license, "License", l, licensing.LicensesByID)
	l.Assignment = byID(&p.assignment, "Assignment", l, licensing.AssignmentsByID)
	l.Person = byID(&p.person, "Person", l, directory.PeopleByID)
	l.Group = byID(&p.group, "Group", l, directory.GroupsByID)
	l.Event = byID(&p.event, "Event", l, licensing.EventsByID)
	l.Assignments = list(&p.assignments, "Assignments", l, readAssignments)
	l.AssignmentCounts = list(&p.assignmentCounts, "AssignmentCounts", l, countAssignments)
	l.Members = list(&p.members, "Members", l, readMembers)
	l.MemberCounts = list(&p.memberCounts, "MemberCounts", l, countMembers)
	l.Groups = list(&p.groups, "Groups", l, readGroups)
	l.GroupCounts = list(&p.groupCounts, "GroupCounts", l, countGroups)
	l.Events = list(&p.events, "Events", l, readEvents)
	l.EventCounts = list(&p.eventCounts, "EventCounts", l, countEvents)
	l.Utilization = list(&p.utilization, "Utilization", l, readUtilization)
	l.Usage = list(&p.usage, "Usage", l, readUsage)
	l.ReclaimPolicy = list(&p.reclaimPolicy, "ReclaimPolicy", l, readReclaimPolicies)
	l.Entitlements = list(&p.entitlements, "Entitlements", l, readEntitlements)
	return l
}

// Expect tells the loaders that the page field resolving in ctx holds n
// items, so that the batches of its items' fields run as soon as all n
// have asked.
func (l *Loaders) Expect(ctx context.Context, n int) { l.levels.expect(ctx, n) }

// EndReadsForWrite is the step between a request's reads and a write: it
// ends the request's reads (they hold no connection between batches, so
// there is nothing to give back) and forgets everything the loaders have
// read (so that reads after the write see it).
func (l *Loaders) EndReadsForWrite() error {
	err := l.Session.Close()
	l.forget()
	return err
}

// forget forgets everything the loaders have read: the records by id,
// and the pages read ahead (a List keeps nothing else between its
// batches).
func (l *Loaders) forget() {
	l.License.clear()
	l.Assignment.clear()
	l.Person.clear()
	l.Group.clear()
	l.Event.clear()
	l.Assignments.forget()
	l.Groups.forget()
	l.Members.forget()
}

// Prime reads the records related to assignments that the query will ask
// for (want: PrimePerson, PrimeGroup, PrimeLicense), one statement per
// kind, all at once, and primes the by-id loaders with them.
func (l *Loaders) Prime(ctx context.Context, assignments []*models.Assignment, want []string) error {
	return l.primeBeside(ctx, assignments, want, Record{})
}

// primeBeside is Prime leaving out the record beside, which is being read
// (AssignmentArgs.Beside).
func (l *Loaders) primeBeside(ctx context.Context, assignments []*models.Assignment, want []string, beside Record) error {
	var people, groups, licenses []uuid.UUID
	for _, a := range assignments {
		for _, w := range want {
			switch w {
			case PrimePerson:
				people = appendIDs(people, a.PersonID, a.AssignedByPersonID)
			case PrimeGroup:
				groups = appendIDs(groups, a.GroupID, a.ViaGroupID)
			case PrimeLicense:
				licenses = appendIDs(licenses, &a.LicenseID)
			}
		}
	}
	leftOut := func(id uuid.UUID) bool { return id == beside.ID }
	switch beside.Kind {
	case PrimePerson:
		people = slices.DeleteFunc(people, leftOut)
	case PrimeGroup:
		groups = slices.DeleteFunc(groups, leftOut)
	case PrimeLicense:
		licenses = slices.DeleteFunc(licenses, leftOut)
	}
	var reads []func() error
	if len(people) > 0 {
		reads = append(reads, func() error { return l.Person.prime(ctx, people) })
	}
	if len(groups) > 0 {
		reads = append(reads, func() error { return l.Group.prime(ctx, groups) })
	}
	if len(licenses) > 0 {
		reads = append(reads, func() error { return l.License.prime(ctx, licenses) })
	}
	if len(reads) == 0 {
		return nil
	}
	// The first read runs here, the others each in a goroutine of its own
	// (spawn: one that has grown its stack through reads before).
	var wg sync.WaitGroup
	errs := make([]error, len(reads))
	for i, f := range reads[1:] {
		wg.Add(1)
		spawn(func() { defer wg.Done(); errs[i+1] = f() })
	}
	errs[0] = reads[0]()
	wg.Wait()
	return errors.Join(errs...)
}

func appendIDs(ids []uuid.UUID, more ...*uuid.UUID) []uuid.UUID {
	for _, id := range more {
		if id != nil {
			ids = append(ids, *id)
		}
	}
	return ids
}

// ByID is a batching loader of records by id. Records read ahead (Now,
// prime) are kept apart from the batches, so that a field asking for one
// knows it will not wait.
type ByID[T any] struct {
	name  string
	read  func(context.Context, *store.Session, []uuid.UUID) (map[uuid.UUID]*T, error)
	owner *Loaders

	mu     sync.Mutex
	loader *dataloadgen.Loader[uuid.UUID, *T] // made when first needed
	known  map[uuid.UUID]*T                   // read ahead; nil: names nothing visible
}

func byID[T any](b *ByID[T], name string, l *Loaders, read func(context.Context, *store.Session, []uuid.UUID) (map[uuid.UUID]*T, error)) *ByID[T] {
	*b = ByID[T]{name: name, read: read, owner: l}
	return b
}

// fetch reads the records of ids, counted (and traced) as a batch.
func (b *ByID[T]) fetch(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]*T, error) {
	return telemetry.Batch(ctx, b.name, ids, func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]*T, error) {
		return b.read(ctx, b.owner.Session, ids)
	})
}

// batches is b's dataloader, made on first use.
func (b *ByID[T]) batches() *dataloadgen.Loader[uuid.UUID, *T] {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.loader == nil {
		b.loader = dataloadgen.NewMappedLoader(b.fetch, dataloadgen.WithWait(fallbackWait))
	}
	return b.loader
}

// Now reads one record by id at once, without batching (a root field:
// nothing else at its level will ask), and keeps it.
func (b *ByID[T]) Now(ctx context.Context, id uuid.UUID) (*T, error) {
	m, err := b.fetch(ctx, []uuid.UUID{id})
	if err != nil {
		return nil, err
	}
	b.keep(m, id)
	return m[id], nil
}

// Many reads the records of ids at once, those not yet known in one
// statement (a root field: every id its level will ask for is known), and
// returns them in the order of ids, nil where an id names nothing visible.
func (b *ByID[T]) Many(ctx context.Context, ids []uuid.UUID) ([]*T, error) {
	if err := b.prime(ctx, slices.Clone(ids)); err != nil {
		return nil, err
	}
	out := make([]*T, len(ids))
	b.mu.Lock()
	for i, id := range ids {
		out[i] = b.known[id]
	}
	b.mu.Unlock()
	return out, nil
}

// prime reads ids (those not yet known) at once and keeps them; an id
// that names nothing visible is kept as nil.
func (b *ByID[T]) prime(ctx context.Context, ids []uuid.UUID) error {
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	ids = slices.Compact(ids)
	b.mu.Lock()
	ids = slices.DeleteFunc(ids, func(id uuid.UUID) bool { _, ok := b.known[id]; return ok })
	b.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	m, err := b.fetch(ctx, ids)
	if err != nil {
		return err
	}
	b.keep(m, ids...)
	return nil
}

func (b *ByID[T]) keep(m map[uuid.UUID]*T, ids ...uuid.UUID) {
	b.mu.Lock()
	if b.known == nil {
		b.known = make(map[uuid.UUID]*T, len(ids))
	}
	for _, id := range ids {
		b.known[id] = m[id]
	}
	b.mu.Unlock()
}

func (b *ByID[T]) clear() {
	b.mu.Lock()
	clear(b.known)
	loader := b.loader
	b.mu.Unlock()
	if loader != nil {
		loader.ClearAll()
	}
}

// Get loads one record by id; a record that does not exist (or is not
// visible to the caller) is nil, not an error. A record not read ahead is
// read at once when the field is in no list, and otherwise joins a batch:
// the siblings that will join it are started first (fork).
func Get[T any](ctx context.Context, l *ByID[T], id uuid.UUID) (*T, error) {
	l.mu.Lock()
	v, ok := l.known[id]
	l.mu.Unlock()
	if ok {
		return v, nil
	}
	if l.owner.levels.at(ctx).expected == 1 {
		// A field in no list (a mutation's payload, say): nothing else
		// at its level will ask.
		return l.Now(ctx, id)
	}
	fork(ctx)
	v, err := l.batches().Load(ctx, id)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, nil
	}
	return v, err
}

// GetPtr is Get for an optional id.
func GetPtr[T any](ctx context.Context, l *ByID[T], id *uuid.UUID) (*T, error) {
	if id == nil {
		return nil, nil
	}
	return Get(ctx, l, *id)
}

type ctxKey struct{}

// request is what a request's context carries: its session, and its
// loaders once a resolver asks for them (a request that loads nothing,
// such as most mutations, does not make them).
type request struct {
	sess    *store.Session
	mu      sync.Mutex // held while the loaders are made
	loaders atomic.Pointer[Loaders]
}

// With returns ctx carrying the request's session sess, and the loaders
// reading through it (made when first asked for).
func With(ctx context.Context, sess *store.Session) context.Context {
	return store.BeforeStatements(context.WithValue(ctx, ctxKey{}, &request{sess: sess}), fork)
}

// For returns the request's loaders.
func For(ctx context.Context) *Loaders {
	r := ctx.Value(ctxKey{}).(*request)
	if l := r.loaders.Load(); l != nil {
		return l
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.loaders.Load() == nil {
		r.loaders.Store(New(r.sess))
	}
	return r.loaders.Load()
}

// Session returns the request's session.
func Session(ctx context.Context) *store.Session {
	return ctx.Value(ctxKey{}).(*request).sess
}

// EndReadsForWrite is Loaders.EndReadsForWrite for the request in ctx;
// loaders not yet made have read nothing to forget.
func EndReadsForWrite(ctx context.Context) error {
	r := ctx.Value(ctxKey{}).(*request)
	if l := r.loaders.Load(); l != nil {
		return l.EndReadsForWrite()
	}
	return r.sess.Close()
}

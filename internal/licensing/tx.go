package licensing

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/gid"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// Actor is who writes: the caller's tenant (and app), subject, and the
// provenance stamped on records when the input names none.
type Actor struct {
	Tenant     store.Tenant
	Subject    string
	Source     string
	SourceType models.SourceType
	// At, when set, is the clock of the actor's transactions: the seed
	// replays months of history through the same code as the mutations.
	// The API never sets it.
	At time.Time
}

// System is the actor of the server's own jobs.
func System(tenant string) Actor {
	return Actor{Tenant: store.Tenant{ID: tenant}, Subject: "system", Source: "seatgraph", SourceType: models.SourceSystem}
}

// Tx is one write transaction. Every seat change goes through a Tx, which
// locks what it changes in one global order (an email address, a group or
// a person, then licenses by id, then assignments), so concurrent writers on any number of replicas
// serialise per license instead of racing, and promotes the waitlist of
// every license whose seats it may have freed before it commits.
type Tx struct {
	ctx     context.Context
	s       store.Scope
	actor   Actor
	now     time.Time
	byWhom  *uuid.UUID
	lookup  bool
	touched map[uuid.UUID]bool
}

var errDryRun = errors.New("dry run")

// Write runs fn in a write transaction for actor. With dryRun the
// transaction runs in full (so fn's results are exactly what would happen)
// and is then rolled back. Business problems come back as problem errors.
func Write(ctx context.Context, db *store.DB, actor Actor, dryRun bool, fn func(*Tx) error) error {
	err := db.WriteRetrying(ctx, actor.Tenant, func(s store.Scope) error {
		now := time.Now()
		if !actor.At.IsZero() {
			now = actor.At
		}
		tx := &Tx{ctx: ctx, s: s, actor: actor, now: now.UTC().Truncate(time.Microsecond), touched: map[uuid.UUID]bool{}}
		if err := fn(tx); err != nil {
			return err
		}
		if err := tx.promoteTouched(); err != nil {
			return err
		}
		if dryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		return nil
	}
	return translate(err)
}

// translate turns a constraint PostgreSQL enforced into the problem the
// caller can act on; other errors pass through as internal errors.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := problem.All(err); ok {
		return err
	}
	code, constraint, ok := store.Violation(err)
	switch {
	case !ok:
		return err
	case constraint == "licenses_seats_within_total":
		return problem.New(problem.SeatLimitReached, "", "no seat is free on the license")
	case code == store.UniqueViolation:
		return problem.New(problem.Conflict, "", "a live record with these values already exists")
	case code == store.ForeignKeyViolation:
		return problem.New(problem.NotFound, "", "a referenced record does not exist")
	case code == store.CheckViolation, store.DataException(err):
		return problem.New(problem.Invalid, "", "a value is out of range or malformed")
	}
	return err
}

// Scope is the transaction's tenant scope.
func (t *Tx) Scope() store.Scope { return t.s }

// Context is the transaction's context.
func (t *Tx) Context() context.Context { return t.ctx }

// Now is the transaction's clock: every stamp in it is the same instant.
func (t *Tx) Now() time.Time { return t.now }

// Actor is who writes.
func (t *Tx) Actor() Actor { return t.actor }

// NewRecord makes the Record fields of a new row, stamped from the actor;
// source and sourceType come from the input when it names them.
func (t *Tx) NewRecord(source *string, sourceType *models.SourceType) models.Record {
	src, typ := t.actor.Source, t.actor.SourceType
	if source != nil && *source != "" {
		src = *source
	}
	if sourceType != nil {
		typ = *sourceType
	}
	if typ == "" {
		typ = models.SourceAPI
	}
	if src == "" {
		src = "edm"
	}
	return models.NewRecord(t.actor.Tenant.ID, t.actor.Tenant.AppID, t.actor.Subject, src, typ, t.now)
}

// Touch stamps an update of rec by the actor.
func (t *Tx) Touch(rec *models.Record) {
	rec.UpdatedAt, rec.UpdatedBy = t.now, t.actor.Subject
}

// CheckFresh refuses an update when the caller read an older version.
func CheckFresh(rec *models.Record, expected *time.Time) error {
	if expected != nil && !expected.Equal(rec.UpdatedAt) {
		return problem.New(problem.StaleWrite, "input.expectedUpdatedAt",
			"the record changed since %s (it is now at %s); read it again", expected.UTC().Format(time.RFC3339Nano),
			rec.UpdatedAt.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// assignedBy is the Person the actor is, when it is one.
func (t *Tx) assignedBy() (*uuid.UUID, error) {
	if t.lookup {
		return t.byWhom, nil
	}
	var ids []uuid.UUID
	err := t.s.Select((*models.Person)(nil)).Column("p.id").
		Where("p.external_id = ?", t.actor.Subject).Where("NOT p.is_deleted").Limit(1).Scan(t.ctx, &ids)
	if err != nil {
		return nil, err
	}
	t.lookup = true
	if len(ids) > 0 {
		t.byWhom = &ids[0]
	}
	return t.byWhom, nil
}

// LockLicenses locks the live licenses ids in id order and returns them
// with their seat counters; a missing one is NOT_FOUND. It is for licenses
// reached as a consequence of a write (through a group, a person, an
// invitation), so it sees the whole tenant, not only the caller's app.
//
// A license deleted meanwhile is locked and returned too (callers skip it):
// the consequence, not the license, is what the write is about.
func (t *Tx) LockLicenses(ids ...uuid.UUID) (map[uuid.UUID]*models.License, error) {
	return t.lockLicenses(t.s.Tenantwide(), ids, true)
}

func (t *Tx) lockLicenses(s store.Scope, ids []uuid.UUID, deleted bool) (map[uuid.UUID]*models.License, error) {
	ids = sortedIDs(ids)
	out := make(map[uuid.UUID]*models.License, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []*models.License
	q := selectLicenses(s).Where("l.id IN (?)", bun.List(ids))
	if !deleted {
		q = q.Where("NOT l.is_deleted")
	}
	err := q.OrderExpr("l.id").For("UPDATE").Scan(t.ctx, &rows)
	if err != nil {
		return nil, err
	}
	for _, l := range rows {
		out[l.ID] = l
	}
	for _, id := range ids {
		if out[id] == nil {
			return nil, problem.New(problem.NotFound, "", "license %s not found", gid.License.Format(id))
		}
	}
	return out, nil
}

// lockLicense locks one live license the caller names (so an application
// caller reaches only its own), and first ends its grants whose time has
// come, so that a write never competes with seats that already expired.
func (t *Tx) lockLicense(id uuid.UUID, field string) (*models.License, error) {
	_, err := t.lockLicenses(t.s, []uuid.UUID{id}, false)
	if p, ok := problem.As(err); ok && p.Code == problem.NotFound {
		p.Field = field
	}
	if err != nil {
		return nil, err
	}
	if err := t.expireDue(id); err != nil {
		return nil, err
	}
	return t.reload(id)
}

// expireDue ends the live grants of a locked license whose expiresAt has
// passed, as the expiry job would.
func (t *Tx) expireDue(license uuid.UUID) error {
	var rows []*models.Assignment
	err := selectAssignments(t.s.Tenantwide()).Where("a.license_id = ?", license).Where(liveSQL).
		Where("a.expires_at <= ?", t.now).OrderExpr("a.id").For("UPDATE OF a").Scan(t.ctx, &rows)
	if err != nil || len(rows) == 0 {
		return err
	}
	if err := t.expire(rows); err != nil {
		return err
	}
	// The freed seats go to the waitlist before the write that found them
	// expired can take one.
	return t.promote(license)
}

// expire ends rows as EXPIRED (the caller holds their licenses' locks)
// and marks the licenses for waitlist promotion. Time ended them, not the
// caller whose write noticed: the events and stamps name the system.
func (t *Tx) expire(rows []*models.Assignment) error {
	if len(rows) == 0 {
		return nil
	}
	sys := System(t.actor.Tenant.ID)
	events := make([]*models.AssignmentEvent, len(rows))
	for i, a := range rows {
		a.ExpiredAt, a.UpdatedAt, a.UpdatedBy = &t.now, t.now, sys.Subject
		ev := t.event(a, models.EventExpired, map[string]any{"expiresAt": firstEnd(a)})
		ev.Actor, ev.ActorType = sys.Subject, sys.SourceType
		events[i] = ev
		t.touched[a.LicenseID] = true
		if _, err := t.s.Update(a).Column("expired_at", "updated_at", "updated_by").WherePK().Exec(t.ctx); err != nil {
			return err
		}
	}
	return t.insertEvents(events)
}

// reload reads a license's current counters (the caller holds its lock).
func (t *Tx) reload(id uuid.UUID) (*models.License, error) {
	l := new(models.License)
	err := selectLicenses(t.s.Tenantwide()).Where("l.id = ?", id).Scan(t.ctx, l)
	return l, err
}

// free is how many seats of l are free; nil when unlimited.
func free(l *models.License) *int {
	if l.TotalSeats == nil {
		return nil
	}
	n := max(*l.TotalSeats-l.SeatsUsed, 0)
	return &n
}

// holding returns which of holders already hold a seat of license.
func (t *Tx) holding(license uuid.UUID, holders []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(holders) == 0 {
		return out, nil
	}
	var rows []string
	err := t.s.Select((*models.SeatHolder)(nil)).Column("sh.holder").
		Where("sh.license_id = ?", license).Where("sh.holder IN (?)", bun.List(holders)).Scan(t.ctx, &rows)
	for _, h := range rows {
		out[h] = true
	}
	return out, err
}

// LockEmail takes, until commit, the tenant's lock on an email address:
// inviting an address and creating (or renaming) a person to it serialise
// on it, so an invitation is always bound to its person.
func (t *Tx) LockEmail(email string) error {
	_, err := t.s.Exec(t.ctx, "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))",
		"email:"+t.actor.Tenant.ID+":"+strings.ToLower(email))
	return err
}

// queueTime is the database's clock now. Taken while the license lock is
// held, it orders the waitlist exactly as the lock ordered the writers,
// whichever replica (and clock) each ran on.
func (t *Tx) queueTime() (time.Time, error) {
	var now time.Time
	err := t.s.Compose().ColumnExpr("clock_timestamp()").Scan(t.ctx, &now)
	return now.UTC(), err
}

// expired says whether a license no longer grants seats.
func (t *Tx) expired(l *models.License) bool {
	return l.ExpiresAt != nil && !l.ExpiresAt.After(t.now)
}

// insertAssignments writes new assignments and their first events.
func (t *Tx) insertAssignments(rows []*models.Assignment, events []*models.AssignmentEvent) error {
	if len(rows) == 0 {
		return nil
	}
	if _, err := t.s.Insert(&rows).Exec(t.ctx); err != nil {
		return err
	}
	return t.insertEvents(events)
}

func (t *Tx) insertEvents(events []*models.AssignmentEvent) error {
	if len(events) == 0 {
		return nil
	}
	_, err := t.s.Insert(&events).Exec(t.ctx)
	return err
}

// event makes an event of type typ about a, stamped from the actor.
func (t *Tx) event(a *models.Assignment, typ models.EventType, changes map[string]any) *models.AssignmentEvent {
	if changes == nil {
		changes = map[string]any{}
	}
	actorType := t.actor.SourceType
	if actorType == "" {
		actorType = models.SourceAPI
	}
	return &models.AssignmentEvent{TenantID: t.actor.Tenant.ID, ID: uuid.Must(uuid.NewV7()), AssignmentID: a.ID,
		Type: typ, Actor: t.actor.Subject, ActorType: actorType, OccurredAt: t.now, Changes: changes}
}

// updateAssignments writes the given columns of rows (plus the update stamp).
func (t *Tx) updateAssignments(rows []*models.Assignment, columns ...string) error {
	for _, a := range rows {
		t.Touch(&a.Record)
		_, err := t.s.Update(a).Column(append(columns, "updated_at", "updated_by")...).WherePK().Exec(t.ctx)
		if err != nil {
			return err
		}
	}
	return nil
}

// promoteTouched promotes the waitlists of every license whose seats this
// transaction may have freed, in license order.
func (t *Tx) promoteTouched() error {
	ids := make([]uuid.UUID, 0, len(t.touched))
	for id := range t.touched {
		ids = append(ids, id)
	}
	for _, id := range sortedIDs(ids) {
		if err := t.promote(id); err != nil {
			return err
		}
	}
	return nil
}

// promote gives free seats of license to its waitlist, first in first out.
// A waitlisted person who meanwhile got a seat through another grant is
// promoted at no cost.
func (t *Tx) promote(id uuid.UUID) error {
	l, err := t.reload(id)
	if err != nil || l.IsDeleted || t.expired(l) || l.SeatsWaitlisted == 0 {
		return err
	}
	for {
		f := free(l)
		var next []*models.Assignment
		err := selectAssignments(t.s.Tenantwide()).Where("a.license_id = ?", id).Where(liveSQL).
			Where("a.waitlisted_at IS NOT NULL").OrderExpr("a.waitlisted_at, a.id").Limit(1).
			For("UPDATE OF a").Scan(t.ctx, &next)
		if err != nil || len(next) == 0 {
			return err
		}
		a := next[0]
		held, err := t.holding(id, []string{a.Holder()})
		if err != nil {
			return err
		}
		if f != nil && *f == 0 && !held[a.Holder()] {
			return nil
		}
		a.WaitlistedAt = nil
		if err := t.updateAssignments([]*models.Assignment{a}, "waitlisted_at"); err != nil {
			return err
		}
		ev := t.event(a, models.EventPromoted, nil)
		if ev.OccurredAt, err = t.queueTime(); err != nil {
			return err
		}
		if err := t.insertEvents([]*models.AssignmentEvent{ev}); err != nil {
			return err
		}
		if l, err = t.reload(id); err != nil {
			return err
		}
	}
}

// liveSQL selects assignments that are not deleted, revoked or expired.
const liveSQL = "NOT a.is_deleted AND a.revoked_at IS NULL AND a.expired_at IS NULL"

// sortedIDs is ids sorted (the lock order) without repeats.
func sortedIDs(ids []uuid.UUID) []uuid.UUID {
	ids = slices.Clone(ids)
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	return slices.Compact(ids)
}

package licensing

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"seatgraph/internal/gid"
	"seatgraph/internal/opt"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// This file is the unit of work: one write transaction (Tx) with its
// actor and clock, the stamps it puts on records, the history rows it
// writes, and the translation of what PostgreSQL refused into problems.
// The seat engine (engine.go) and the operations build on it.

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

// system is the actor of the server's own jobs.
func system(tenant string) Actor {
	return Actor{Tenant: store.Tenant{ID: tenant}, Subject: "system", Source: "seatgraph", SourceType: models.SourceSystem}
}

// System is the actor of the server's own jobs in tenant, for jobs outside
// this package (the webhook worker).
func System(tenant string) Actor { return system(tenant) }

// Tx is one write transaction. Every change goes through a Tx; the seat
// engine's methods on it take locks in one global order (see engine.go)
// and promote waitlists before it commits.
type Tx struct {
	ctx     context.Context
	s       store.Scope
	actor   Actor
	now     time.Time
	byWhom  *uuid.UUID
	lookup  bool
	touched map[uuid.UUID]bool
	out     outbox // the events of this transaction (outbox.go)
}

var errDryRun = errors.New("dry run")

// Write runs fn in a write transaction for actor and, before it commits,
// gives the seats fn freed to the waitlists (promoteTouched) and writes
// the events of what it changed to the outbox (flushOutbox). With dryRun
// the transaction runs in full (so fn's results are exactly what would
// happen) and is then rolled back, emitting nothing. Business problems come back as problem
// errors.
func Write(ctx context.Context, db *store.DB, actor Actor, dryRun *bool, fn func(*Tx) error) error {
	err := db.WriteRetrying(ctx, actor.Tenant, func(s store.Scope) error {
		// The database's clock, so that replicas with skewed clocks agree
		// (the seed replays history at times of its own).
		now := actor.At
		if now.IsZero() {
			var err error
			if now, err = s.Now(ctx); err != nil {
				return err
			}
		}
		tx := &Tx{ctx: ctx, s: s, actor: actor, now: now.UTC().Truncate(time.Microsecond), touched: map[uuid.UUID]bool{}}
		if err := fn(tx); err != nil {
			return err
		}
		if err := tx.promoteTouched(); err != nil {
			return err
		}
		if opt.True(dryRun) {
			return errDryRun
		}
		return tx.flushOutbox()
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
	case constraint == "people_username_key":
		// Two writes passed directory's check at once; the index kept the rule.
		return problem.New(problem.Conflict, "input.username", "a person with this username already exists")
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

// CheckProvenance checks the source and sourceType an input may name:
// SYSTEM is reserved for the server's own jobs.
func CheckProvenance(c *problem.Check, source *string, sourceType *models.SourceType) {
	c.Text("source", source, true)
	if sourceType != nil && *sourceType == models.SourceSystem {
		c.Add(problem.Invalid, "sourceType", "SYSTEM is reserved for the server's own jobs")
	}
}

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
	rec := models.NewRecord(t.actor.Tenant.ID, t.actor.Tenant.AppID, t.actor.Subject, src, typ, t.now)
	t.noteCreated(rec.ID)
	return rec
}

// Touch stamps an update of m by the actor (call it before writing m):
// given a License, Person or Group, the outbox notes the change.
func (t *Tx) Touch(m models.Stamped) {
	t.noteChange(m, false)
	rec := m.Stamps()
	rec.UpdatedAt, rec.UpdatedBy = t.now, t.actor.Subject
}

// SoftDelete stamps m deleted (and updated) by the actor, and returns
// the columns to write.
func (t *Tx) SoftDelete(m models.Stamped) []string {
	t.noteChange(m, true)
	t.Touch(m)
	rec := m.Stamps()
	rec.IsDeleted, rec.DeletedAt, rec.DeletedBy = true, &t.now, &t.actor.Subject
	return []string{"is_deleted", "deleted_at", "deleted_by", "updated_at", "updated_by"}
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

// event makes a history event of type typ about a, stamped from the actor.
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

// grantChanges are the fields a new grant's first event records.
func grantChanges(a *models.Assignment) map[string]any {
	m := map[string]any{"active": a.Active, "fulfilled": a.Fulfilled}
	switch {
	case a.PersonID != nil:
		m["personId"] = gid.Person.Format(*a.PersonID)
	case a.GroupID != nil:
		m["groupId"] = gid.Group.Format(*a.GroupID)
	case a.Email != nil:
		m["email"] = *a.Email
	}
	if a.ExpiresAt != nil {
		m["expiresAt"] = a.ExpiresAt
	}
	return m
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

// insertEvents writes history events.
func (t *Tx) insertEvents(events []*models.AssignmentEvent) error {
	if len(events) == 0 {
		return nil
	}
	_, err := t.s.Insert(&events).Exec(t.ctx)
	t.noteHistory(events)
	return err
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

package licensing

import (
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/gid"
	"seatgraph/models"
)

// This file is the unit of work's event outbox (SPEC §7). A Tx notes what
// it changes as it goes — the records its stamps (NewRecord, Touch,
// SoftDelete) are given, and the history rows it writes — and, just
// before it commits, turns the notes into event rows (flushOutbox): the
// object after the change as the API shows it, plus what changed. The
// operations write no events by hand. A dry run or a refused write rolls
// back and so emits nothing.

// NotifyChannel is the PostgreSQL channel on which a committed write says
// "tenant:seq" (its last event); listeners read the events themselves,
// under row-level security.
const NotifyChannel = "seatgraph_events"

// The event types of assignment history rows.
var assignmentTypes = map[models.EventType]string{
	models.EventAssigned: "assignment.created", models.EventUpdated: "assignment.updated",
	models.EventSuspended: "assignment.suspended", models.EventResumed: "assignment.resumed",
	models.EventFulfilled: "assignment.fulfilled", models.EventWaitlisted: "assignment.waitlisted",
	models.EventPromoted: "assignment.promoted", models.EventExpired: "assignment.expired",
	models.EventRevoked: "assignment.revoked",
	// An assignment ended because its assignee was deleted: its seat is
	// revoked (the history says DELETED).
	models.EventDeleted: "assignment.revoked",
	"DEACTIVATED":       "assignment.deactivated", "REACTIVATED": "assignment.reactivated",
	// The reclaim job (reclaimjob.go).
	models.EventReclaimWarning: "assignment.reclaim_warning", models.EventReclaimCancelled: "assignment.reclaim_cancelled",
}

var kindNames = map[gid.Kind]string{gid.License: "license", gid.Person: "person", gid.Group: "group", gid.Assignment: "assignment"}

// outbox is what a Tx has changed, in order.
type outbox struct {
	entries []entry
	records map[uuid.UUID]*recordChange
	created map[uuid.UUID]bool
	err     error // a failed read of a before-image, returned at flush
}

// entry is one noted change: a record (license, person, group), a history
// row, or a notice of the server's jobs.
type entry struct {
	record  uuid.UUID
	history *models.AssignmentEvent
	notice  *notice
}

type recordChange struct {
	kind           gid.Kind // empty until known, for a record created here
	deleted        bool
	before         view
	added, removed []string // group members, as TypeIDs
}

// notice is an event that is no change of a record: a time-based notice.
type notice struct {
	typ     string
	kind    gid.Kind
	id      uuid.UUID
	changes map[string]any
	object  view // for events about other records (NoteEvent)
}

func (o *outbox) init() {
	if o.records == nil {
		o.records, o.created = map[uuid.UUID]*recordChange{}, map[uuid.UUID]bool{}
	}
}

// noteCreated notes a record made by NewRecord.
func (t *Tx) noteCreated(id uuid.UUID) {
	t.out.init()
	t.out.created[id] = true
	// Its kind is found at flush, unless a history row speaks for it.
	t.out.records[id] = &recordChange{}
	t.out.entries = append(t.out.entries, entry{record: id})
}

// noteChange notes that m is being updated (or deleted); the first time,
// it reads the record as it was, so that the event can say what changed.
func (t *Tx) noteChange(m models.Stamped, deleted bool) {
	t.out.init()
	id := m.Stamps().ID
	var kind gid.Kind
	switch m.(type) {
	case *models.License:
		kind = gid.License
	case *models.Person:
		kind = gid.Person
	case *models.Group:
		kind = gid.Group
	default:
		return // assignments speak through their history rows
	}
	rc := t.out.records[id]
	if rc != nil && rc.kind == "" {
		rc.kind = kind
	}
	if rc == nil {
		rc = &recordChange{kind: kind}
		t.out.records[id] = rc
		t.out.entries = append(t.out.entries, entry{record: id})
		if !t.out.created[id] {
			views, err := t.recordViews(kind, []uuid.UUID{id})
			if err != nil && t.out.err == nil {
				t.out.err = err
			}
			rc.before = views[id]
		}
	}
	rc.deleted = rc.deleted || deleted
}

// noteMembers notes people added to and removed from group g, for its
// group.members_changed event.
func (t *Tx) noteMembers(g *models.Group, added, removed []uuid.UUID) {
	t.noteChange(g, false)
	rc := t.out.records[g.ID]
	for _, id := range added {
		rc.added = append(rc.added, gid.Person.Format(id))
	}
	for _, id := range removed {
		rc.removed = append(rc.removed, gid.Person.Format(id))
	}
}

// noteHistory notes written history rows.
func (t *Tx) noteHistory(events []*models.AssignmentEvent) {
	for _, ev := range events {
		t.out.entries = append(t.out.entries, entry{history: ev})
	}
}

// noteNotice notes a time-based notice about the license or assignment id.
func (t *Tx) noteNotice(typ string, kind gid.Kind, id uuid.UUID, changes map[string]any) {
	t.out.entries = append(t.out.entries, entry{notice: &notice{typ: typ, kind: kind, id: id, changes: changes}})
}

// NoteEvent notes an event about a record the outbox does not read itself
// (such as a webhook endpoint the server disabled): object is that record
// as the API shows it.
func (t *Tx) NoteEvent(typ string, subject uuid.UUID, object, changes map[string]any) {
	t.out.entries = append(t.out.entries, entry{notice: &notice{typ: typ, id: subject, changes: changes, object: object}})
}

// recordViews reads records of kind by id, as the API shows them now.
func (t *Tx) recordViews(kind gid.Kind, ids []uuid.UUID) (map[uuid.UUID]view, error) {
	out := map[uuid.UUID]view{}
	if len(ids) == 0 {
		return out, nil
	}
	s := t.s.Tenantwide()
	switch kind {
	case gid.License:
		var rows []*models.License
		if err := selectLicenses(s).Where("l.id IN (?)", bun.List(ids)).Scan(t.ctx, &rows); err != nil {
			return nil, err
		}
		for _, l := range rows {
			out[l.ID] = licenseView(l, t.now)
		}
	case gid.Person:
		var rows []*models.Person
		if err := s.Select(&rows).Where("p.id IN (?)", bun.List(ids)).Scan(t.ctx); err != nil {
			return nil, err
		}
		for _, p := range rows {
			out[p.ID] = personView(p)
		}
	case gid.Group:
		var rows []*models.Group
		if err := s.Select(&rows).Where("g.id IN (?)", bun.List(ids)).Scan(t.ctx); err != nil {
			return nil, err
		}
		for _, g := range rows {
			out[g.ID] = groupView(g)
		}
	case gid.Assignment:
		var rows []*models.Assignment
		if err := selectAssignments(s).Where("a.id IN (?)", bun.List(ids)).Scan(t.ctx, &rows); err != nil {
			return nil, err
		}
		for _, a := range rows {
			v := assignmentView(a, t.now)
			v["_license"], v["_assignee"], v["_app"] = a.LicenseID, assigneeOf(a), a.AppID
			out[a.ID] = v
		}
	}
	return out, nil
}

func assigneeOf(a *models.Assignment) *uuid.UUID {
	if a.PersonID != nil {
		return a.PersonID
	}
	return a.GroupID
}

// flushOutbox writes the Tx's events, in order, with seqs from the
// tenant's stream (whose row lock it holds until commit, so seqs follow
// commit order), queues them for the tenant's webhook endpoints, and
// notifies the listeners when the transaction commits.
func (t *Tx) flushOutbox() error {
	o := &t.out
	if o.err != nil {
		return o.err
	}
	o.init()
	ids := map[gid.Kind][]uuid.UUID{}
	licenses := map[uuid.UUID]bool{}
	for id := range t.touched {
		licenses[id] = true
	}
	newAssignments := map[uuid.UUID]bool{}
	for _, e := range o.entries {
		switch {
		case e.history != nil:
			ids[gid.Assignment] = append(ids[gid.Assignment], e.history.AssignmentID)
			newAssignments[e.history.AssignmentID] = true
		case e.notice != nil && e.notice.object == nil:
			ids[e.notice.kind] = append(ids[e.notice.kind], e.notice.id)
		}
	}
	if err := t.kindsOfCreated(newAssignments); err != nil {
		return err
	}
	for _, e := range o.entries {
		if rc := o.records[e.record]; e.history == nil && e.notice == nil && rc != nil && rc.kind != "" {
			ids[rc.kind] = append(ids[rc.kind], e.record)
			if rc.kind == gid.License {
				licenses[e.record] = true
			}
		}
	}
	after := map[uuid.UUID]view{}
	for _, kind := range []gid.Kind{gid.Assignment, gid.Person, gid.Group} {
		vs, err := t.recordViews(kind, sortedIDs(ids[kind]))
		if err != nil {
			return err
		}
		for id, v := range vs {
			after[id] = v
			if l, ok := v["_license"].(uuid.UUID); ok {
				licenses[l] = true
			}
		}
	}
	low, err := t.crossLowSeats(licenses)
	if err != nil {
		return err
	}
	lids := sortedIDs(append(ids[gid.License], low...))
	vs, err := t.recordViews(gid.License, lids)
	if err != nil {
		return err
	}
	for id, v := range vs {
		after[id] = v
	}
	events := t.buildEvents(after)
	for _, id := range low {
		if v := after[id]; v != nil {
			events = append(events, t.newEvent("license.seats_low", gid.License, id, v, map[string]any{
				"available": v["seats"].(map[string]any)["available"], "lowSeatsThreshold": v["lowSeatsThreshold"]}, nil))
		}
	}
	return t.writeEvents(events)
}

// kindsOfCreated finds the kind of each record created in this Tx that no
// history row speaks for (assignments do): a license, person or group.
func (t *Tx) kindsOfCreated(assignments map[uuid.UUID]bool) error {
	var ids []uuid.UUID
	for id, rc := range t.out.records {
		if rc.kind == "" && !assignments[id] {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var rows []struct {
		Kind string    `bun:"kind"`
		ID   uuid.UUID `bun:"id"`
	}
	tenant, list := t.actor.Tenant.ID, bun.List(ids)
	err := t.s.Compose().
		ColumnExpr("'lic' AS kind, id").TableExpr("licenses").Where("tenant_id = ? AND id IN (?)", tenant, list).
		UnionAll(t.s.Compose().ColumnExpr("'per', id").TableExpr("people").Where("tenant_id = ? AND id IN (?)", tenant, list)).
		UnionAll(t.s.Compose().ColumnExpr("'grp', id").TableExpr("groups").Where("tenant_id = ? AND id IN (?)", tenant, list)).
		Scan(t.ctx, &rows)
	if err != nil {
		return err
	}
	for _, r := range rows {
		t.out.records[r.ID].kind = gid.Kind(r.Kind)
	}
	return nil
}

// crossLowSeats flips the once-per-crossing low-seats mark of the given
// licenses where their available seats crossed lowSeatsThreshold, and
// returns those that fell to or below it.
func (t *Tx) crossLowSeats(licenses map[uuid.UUID]bool) ([]uuid.UUID, error) {
	if len(licenses) == 0 {
		return nil, nil
	}
	ids := make([]uuid.UUID, 0, len(licenses))
	for id := range licenses {
		ids = append(ids, id)
	}
	const low = "(l.low_seats_threshold IS NOT NULL AND l.total_seats IS NOT NULL AND NOT l.is_deleted " +
		"AND l.total_seats - l.seats_used <= l.low_seats_threshold)"
	var rows []struct {
		ID      uuid.UUID `bun:"id"`
		Noticed bool      `bun:"seats_low_noticed"`
	}
	_, err := t.s.Update((*models.License)(nil)).Set("seats_low_noticed = "+low).
		Where("l.id IN (?)", bun.List(sortedIDs(ids))).Where("l.seats_low_noticed <> "+low).
		Returning("l.id, l.seats_low_noticed").Exec(t.ctx, &rows)
	var out []uuid.UUID
	for _, r := range rows {
		if r.Noticed {
			out = append(out, r.ID)
		}
	}
	return sortedIDs(out), err
}

// writeEvents numbers events from the tenant's stream, inserts them,
// queues a delivery for each webhook endpoint that wants one, and
// notifies the listeners at commit.
func (t *Tx) writeEvents(events []*models.Event) error {
	if len(events) == 0 {
		return nil
	}
	stream := &models.EventStream{TenantID: t.actor.Tenant.ID, LastSeq: int64(len(events))}
	_, err := t.s.Insert(stream).On("CONFLICT (tenant_id) DO UPDATE").
		Set("last_seq = es.last_seq + EXCLUDED.last_seq").Returning("last_seq").Exec(t.ctx, &stream.LastSeq)
	if err != nil {
		return err
	}
	first := stream.LastSeq - int64(len(events)) + 1
	for i, ev := range events {
		ev.Seq = first + int64(i)
	}
	// One statement after the stream's lock: the events, their deliveries
	// and the notification (sent at commit).
	//
	// The deliveries are selected from the endpoints and the events as
	// given (one JSON value), not from the inserted rows, with ids made
	// without a volatile function (a hash of a random value of this
	// statement, the endpoint and the event): on Citus, an INSERT … SELECT
	// that reads a CTE's rows or calls a volatile function is run through
	// the coordinator as a COPY, which row-level security refuses; this one
	// runs on the tenant's shard (docs/scale-out.md, rule 10).
	type queued struct {
		Seq   int64   `json:"seq"`
		Type  string  `json:"type"`
		AppID *string `json:"app_id"`
	}
	given := make([]queued, len(events))
	for i, ev := range events {
		given[i] = queued{ev.Seq, ev.Type, ev.AppID}
	}
	rows, err := json.Marshal(given)
	if err != nil {
		return err
	}
	_, err = t.s.Exec(t.ctx, `WITH ev AS (?), queued AS (
		INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, event_seq, status, next_attempt_at, created_at)
		SELECT w.tenant_id, md5(?::text || w.id::text || e.seq::text)::uuid, w.id, e.seq, 'PENDING', ?, ?
		  FROM webhook_endpoints w, jsonb_to_recordset(?::jsonb) AS e(seq bigint, type text, app_id text)
		 WHERE w.tenant_id = ? AND w.enabled AND NOT w.is_deleted
		   AND (w.event_types = '{}' OR e.type = ANY (w.event_types))
		   AND (w.app_id IS NULL OR w.app_id = e.app_id))
		SELECT pg_notify(?, ?)`, t.s.Insert(&events), uuid.NewString(), t.now, t.now, string(rows), t.actor.Tenant.ID,
		NotifyChannel, fmt.Sprintf("%s:%d", t.actor.Tenant.ID, stream.LastSeq))
	return err
}

package licensing

import (
	"encoding/json"

	"github.com/google/uuid"

	"seatgraph/internal/gid"
	"seatgraph/models"
)

// This file turns the notes a Tx took (outbox.go) into event rows: one
// per history row, notice, or license, person or group change, with the
// record after the change as the API shows it (eventdata.go) and what
// changed.

// buildEvents turns the noted entries into events, with after the
// records as they are now.
func (t *Tx) buildEvents(after map[uuid.UUID]view) []*models.Event {
	var events []*models.Event
	for _, e := range t.out.entries {
		switch {
		case e.history != nil:
			v := after[e.history.AssignmentID]
			typ, ok := assignmentTypes[e.history.Type]
			if v == nil {
				continue
			}
			if !ok {
				typ = "assignment.updated"
			}
			ev := t.newEvent(typ, gid.Assignment, e.history.AssignmentID, v, e.history.Changes, nil)
			ev.ID, ev.OccurredAt, ev.Actor, ev.ActorType = e.history.ID, e.history.OccurredAt, e.history.Actor, e.history.ActorType
			h := e.history.Type
			ev.History = &h
			events = append(events, ev)
		case e.notice != nil && e.notice.object != nil:
			events = append(events, t.newEvent(e.notice.typ, "", e.notice.id, e.notice.object, e.notice.changes, nil))
		case e.notice != nil:
			if v := after[e.notice.id]; v != nil {
				events = append(events, t.newEvent(e.notice.typ, e.notice.kind, e.notice.id, v, e.notice.changes, nil))
			}
		default:
			events = append(events, t.recordEvents(e.record, after)...)
		}
	}
	return events
}

// recordEvents are the events of one license, person or group change.
func (t *Tx) recordEvents(id uuid.UUID, after map[uuid.UUID]view) []*models.Event {
	rc := t.out.records[id]
	v := after[id]
	if rc == nil || rc.kind == "" || v == nil {
		return nil
	}
	name := kindNames[rc.kind]
	switch {
	case rc.before == nil:
		return []*models.Event{t.newEvent(name+".created", rc.kind, id, v, nil, nil)}
	case rc.deleted:
		return []*models.Event{t.newEvent(name+".deleted", rc.kind, id, v, map[string]any{"isDeleted": true}, nil)}
	}
	var out []*models.Event
	previous, changes := diff(rc.before, v)
	if len(changes) > 0 {
		typ := name + ".updated"
		if active, ok := changes["active"].(bool); ok && rc.kind == gid.Person {
			typ = map[bool]string{false: "person.deactivated", true: "person.updated"}[active]
		}
		out = append(out, t.newEvent(typ, rc.kind, id, v, changes, previous))
	}
	if len(rc.added)+len(rc.removed) > 0 {
		out = append(out, t.newEvent("group.members_changed", rc.kind, id, v,
			map[string]any{"added": nonNil(rc.added), "removed": nonNil(rc.removed)}, nil))
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// newEvent makes an event of type typ about the record (of kind) id,
// whose view is v, by the actor, now.
func (t *Tx) newEvent(typ string, kind gid.Kind, id uuid.UUID, v view, changes, previous map[string]any) *models.Event {
	actorType := t.actor.SourceType
	if actorType == "" {
		actorType = models.SourceAPI
	}
	ev := &models.Event{TenantID: t.actor.Tenant.ID, ID: gid.New(), Type: typ, OccurredAt: t.now,
		Actor: t.actor.Subject, ActorType: actorType, SubjectID: id}
	object := view{}
	for k, x := range v {
		if k[0] != '_' {
			object[k] = x
		}
	}
	if app, ok := v["appId"].(*string); ok {
		ev.AppID = app
	}
	switch kind {
	case gid.License:
		ev.LicenseID = &id
	case gid.Assignment:
		l, _ := v["_license"].(uuid.UUID)
		ev.LicenseID = &l
		ev.AssigneeID, _ = v["_assignee"].(*uuid.UUID)
	}
	if changes == nil {
		changes = map[string]any{}
	}
	data := map[string]any{"object": object, "changes": changes}
	if previous != nil {
		data["previous"] = previous
	}
	ev.Data, _ = json.Marshal(data)
	return ev
}

// Package licensing is seatgraph's core: licenses, their assignments and
// the seat rules. Reads here are tenant-scoped through store sessions.
package licensing

import (
	"context"
	"slices"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/opt"
	"seatgraph/internal/paging"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// Parent columns by which assignments are listed per parent.
const (
	ByLicense = "a.license_id"
	ByPerson  = "a.person_id"
	ByGroup   = "a.group_id"
)

func licenseID(l *models.License) uuid.UUID       { return l.ID }
func assignmentID(a *models.Assignment) uuid.UUID { return a.ID }

// LicenseList is the list of licenses matching f in order o.
func LicenseList(f *LicenseFilter, o *LicenseOrder) paging.List[*models.License] {
	return paging.List[*models.License]{
		Order: o.order(), IDExpr: "l.id", ID: licenseID,
		Build: func(s store.Scope) (*bun.SelectQuery, error) {
			return f.apply(selectLicenses(s)), nil
		},
	}
}

// LicensesByID reads licenses by id (deleted ones included: a reference
// to a deleted license still resolves).
func LicensesByID(ctx context.Context, sess *store.Session, ids []uuid.UUID) (map[uuid.UUID]*models.License, error) {
	return store.ByID(ctx, sess, ids, selectLicenses, "l.id", licenseID)
}

// selectLicenses starts a query on licenses that reads the seat counters,
// which the model marks scan-only so that no write from Go can touch them.
func selectLicenses(s store.Scope) *bun.SelectQuery {
	return s.Select((*models.License)(nil)).ColumnExpr("l.*")
}

// selectAssignments starts a query on assignments joined with their
// license, whose name, key and end every assignment view needs.
func selectAssignments(s store.Scope) *bun.SelectQuery {
	return joinLicenses(s).
		ColumnExpr("a.*").
		ColumnExpr("l.name AS license_name, l.program_key, l.expires_at AS license_expires_at")
}

// joinLicenses starts a query on assignments joined with their license,
// choosing no columns yet.
func joinLicenses(s store.Scope) *bun.SelectQuery {
	return s.Select((*models.Assignment)(nil)).
		Join("JOIN licenses AS l ON l.tenant_id = a.tenant_id AND l.id = a.license_id")
}

// AssignmentList is the list of assignments matching f in order o.
func AssignmentList(f *AssignmentFilter, o *AssignmentOrder) paging.List[*models.Assignment] {
	idExpr := "a.id"
	if o.byLastUse() {
		// The same id (LastUseJoin), read from lu: a page after a cursor,
		// (lu.last_used, lu.assignment_id) > (…), is then a range of
		// assignment_use's index; (lu.last_used, a.id) > (…) was a filter
		// after the join, over every grant before the cursor.
		idExpr = "lu.assignment_id"
	}
	return paging.List[*models.Assignment]{
		Order: o.order(), IDExpr: idExpr, ID: assignmentID,
		Build: func(s store.Scope) (*bun.SelectQuery, error) {
			q, lastUse := selectAssignments(s), joinsLastUse(f, o)
			if lastUse {
				q = q.Join(LastUseJoin)
			}
			return f.apply(s, q, lastUse)
		},
	}
}

// joinsLastUse says whether the list of f in order o reads assignment_use
// (LastUseJoin).
func joinsLastUse(f *AssignmentFilter, o *AssignmentOrder) bool {
	return o.byLastUse() || f.byLastUse()
}

// AssignmentParent is the SQL expression of the parent by (ByLicense, …)
// that the list of f in order o groups its rows by: a license's grants
// are lu.license_id when the list reads assignment_use (see LastUseJoin).
func AssignmentParent(by string, f *AssignmentFilter, o *AssignmentOrder) string {
	if by == ByLicense && joinsLastUse(f, o) {
		return LastUseLicense
	}
	return by
}

// LastUseJoin joins assignments (a) with their row of assignment_use
// (lu), whose indexes serve the orders and ranges by last use: no index
// of assignments holds last_used_at, so that recording usage writes none
// (migration 20261201000000_assignment_use; triggers keep lu.last_used
// in step with a.last_used_at in every transaction).
//
// It joins on the key alone, and a query that reads one license's (or a
// few licenses') grants compares LastUseLicense, not a.license_id: the
// same value (a grant's license never changes), but PostgreSQL estimates
// a join on the key of two tables each narrowed to the same license as
// about one row. A prepared statement's generic plan, planned for no
// license in particular, then sorted the license's every grant (a hash
// join and a sort: 50 ms for the biggest license's first page) instead of
// reading assignment_use_license_idx in order until the page is full
// (under a millisecond).
const LastUseJoin = "JOIN assignment_use AS lu ON lu.tenant_id = a.tenant_id AND lu.assignment_id = a.id"

// LastUseLicense is a grant's license after LastUseJoin.
const LastUseLicense = "lu.license_id"

// LastUseSQL is a grant's last use as assignment_use's indexes hold it
// (after LastUseJoin): coalesce(a.last_used_at, '-infinity'), a plain
// column, which under row-level security an index condition can compare
// (an expression could only be a filter).
const LastUseSQL = "lu.last_used"

// ParentOf reads the parent a per-parent assignment list is grouped by.
func ParentOf(by string) func(*models.Assignment) uuid.UUID {
	return func(a *models.Assignment) uuid.UUID {
		switch by {
		case ByPerson:
			return opt.Or(a.PersonID, uuid.Nil)
		case ByGroup:
			return opt.Or(a.GroupID, uuid.Nil)
		default:
			return a.LicenseID
		}
	}
}

// AssignmentsByID reads assignments by id.
func AssignmentsByID(ctx context.Context, sess *store.Session, ids []uuid.UUID) (map[uuid.UUID]*models.Assignment, error) {
	return store.ByID(ctx, sess, ids, selectAssignments, "a.id", assignmentID)
}

// EventList is an assignment's history, oldest first (event ids are
// UUIDv7, so id order is time order).
func EventList() paging.List[*models.AssignmentEvent] {
	return paging.List[*models.AssignmentEvent]{
		Order: paging.Named(paging.Order[*models.AssignmentEvent]{}, "history", "OCCURRED", false), IDExpr: "e.id",
		ID: func(e *models.AssignmentEvent) uuid.UUID { return e.ID },
		Build: func(s store.Scope) (*bun.SelectQuery, error) {
			return s.Select((*models.AssignmentEvent)(nil)), nil
		},
	}
}

// EventParent is the parent column of per-assignment event lists.
const EventParent = "e.assignment_id"

// EventAssignment reads the assignment an event belongs to.
func EventAssignment(e *models.AssignmentEvent) uuid.UUID { return e.AssignmentID }

// EventsByID reads assignment events by id.
func EventsByID(ctx context.Context, sess *store.Session, ids []uuid.UUID) (map[uuid.UUID]*models.AssignmentEvent, error) {
	return store.ByID(ctx, sess, ids, func(s store.Scope) *bun.SelectQuery { return s.Select((*models.AssignmentEvent)(nil)) },
		"e.id", func(e *models.AssignmentEvent) uuid.UUID { return e.ID })
}

// Entitlement is one license a person holds or waits for, with every live
// grant that reaches them.
type Entitlement struct {
	LicenseID  uuid.UUID
	HoldsSeat  bool
	SeatGrants int
	Status     models.Status
	Grants     []*models.Assignment
}

// statusRank orders statuses from best to worst for an entitlement.
var statusRank = []models.Status{models.StatusActive, models.StatusPending, models.StatusSuspended,
	models.StatusWaitlisted, models.StatusDeactivated, models.StatusExpired, models.StatusRevoked}

// Entitlements reads, for each person, their live grants (not deleted,
// revoked or expired) grouped by license, direct grants first.
func Entitlements(ctx context.Context, sess *store.Session, people []uuid.UUID) (map[uuid.UUID][]Entitlement, error) {
	var rows []*models.Assignment
	now := sess.Now()
	err := sess.Read(ctx, func(s store.Scope) error {
		return selectAssignments(s).
			Where("a.person_id IN (?)", bun.List(people)).
			Where(liveSQL).
			OrderExpr("l.name, l.id, a.via_assignment_id IS NOT NULL, a.created_at, a.id").
			Scan(ctx, &rows)
	})
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID][]Entitlement, len(people))
	// Every person asked for gets an answer: none is an empty list, not a
	// missing key (which the loader would report as not found).
	for _, p := range people {
		out[p] = nil
	}
	for _, a := range rows {
		st := Status(a, now)
		if st == models.StatusExpired {
			continue
		}
		p := *a.PersonID
		list := out[p]
		if n := len(list); n == 0 || list[n-1].LicenseID != a.LicenseID {
			list = append(list, Entitlement{LicenseID: a.LicenseID, Status: st})
		}
		e := &list[len(list)-1]
		e.Grants = append(e.Grants, a)
		if holdsSeat(a) {
			e.HoldsSeat = true
			e.SeatGrants++
		}
		if slices.Index(statusRank, st) < slices.Index(statusRank, e.Status) {
			e.Status = st
		}
		out[p] = list
	}
	return out, nil
}

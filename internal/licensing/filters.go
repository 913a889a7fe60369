package licensing

import (
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"seatgraph/internal/gid"
	"seatgraph/internal/opt"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// LicenseFilter narrows a list of licenses.
type LicenseFilter struct {
	Search            *string
	Vendor            *string
	ProgramKey        *string
	ExpiresBefore     *time.Time
	ExpiresAfter      *time.Time
	HasAvailableSeats *bool
	IncludeDeleted    *bool
	RenewsBefore      *time.Time
	RenewsAfter       *time.Time
}

// AssignmentFilter narrows a list of assignments.
type AssignmentFilter struct {
	LicenseIDs     []string
	AssigneeIDs    []string
	AssigneeType   *models.AssigneeType
	Email          *string
	Status         []models.Status
	Active         *bool
	Fulfilled      *bool
	Direct         *bool
	ViaGroupID     *string
	AssetID        *string
	AssignedAfter  *time.Time
	AssignedBefore *time.Time
	ExpiresAfter   *time.Time
	ExpiresBefore  *time.Time
	LastUsedBefore *time.Time
	NeverUsed      *bool
	IncludeDeleted *bool
}

// IncludesDeleted says whether the filter asks for deleted licenses too.
func (f *LicenseFilter) IncludesDeleted() bool { return f != nil && opt.True(f.IncludeDeleted) }

// IncludesDeleted says whether the filter asks for deleted assignments too.
func (f *AssignmentFilter) IncludesDeleted() bool { return f != nil && opt.True(f.IncludeDeleted) }

func (f *LicenseFilter) apply(q *bun.SelectQuery) *bun.SelectQuery {
	if !f.IncludesDeleted() {
		q = q.Where("NOT l.is_deleted")
	}
	if f == nil {
		return q
	}
	if f.Search != nil {
		p := store.Contains(*f.Search)
		q = q.Where("(l.name ILIKE ? OR l.vendor ILIKE ? OR l.program_key ILIKE ?)", p, p, p)
	}
	if f.Vendor != nil {
		q = q.Where("lower(l.vendor) = lower(?)", *f.Vendor)
	}
	if f.ProgramKey != nil {
		q = q.Where("l.program_key = ?", *f.ProgramKey)
	}
	if f.ExpiresBefore != nil {
		q = q.Where("l.expires_at < ?", *f.ExpiresBefore)
	}
	if f.ExpiresAfter != nil {
		q = q.Where("l.expires_at > ?", *f.ExpiresAfter)
	}
	if f.RenewsBefore != nil {
		q = q.Where("l.renews_at < ?", *f.RenewsBefore)
	}
	if f.RenewsAfter != nil {
		q = q.Where("l.renews_at > ?", *f.RenewsAfter)
	}
	if f.HasAvailableSeats != nil {
		if *f.HasAvailableSeats {
			q = q.Where(hasFreeSQL)
		} else {
			q = q.Where("NOT " + hasFreeSQL)
		}
	}
	return q
}

// byLastUse says whether f filters by last use, read from assignment_use
// (the query must hold LastUseJoin).
func (f *AssignmentFilter) byLastUse() bool {
	return f != nil && (f.LastUsedBefore != nil || f.NeverUsed != nil)
}

// apply narrows q to f; lastUse says q holds LastUseJoin, whose
// LastUseLicense the license filter then compares.
func (f *AssignmentFilter) apply(s store.Scope, q *bun.SelectQuery, lastUse bool) (*bun.SelectQuery, error) {
	if !f.IncludesDeleted() {
		q = q.Where("NOT a.is_deleted")
	}
	if f == nil {
		return q, nil
	}
	if f.LicenseIDs != nil {
		ids, err := gid.License.ParseAll(f.LicenseIDs)
		if err != nil {
			return nil, problem.InvalidInput("filter.licenseIds", err)
		}
		col := "a.license_id"
		if lastUse {
			col = LastUseLicense
		}
		q = q.Where(col+" IN (?)", bun.List(ids))
		if len(ids) == 0 {
			q = q.Where("false")
		}
	}
	if f.AssigneeIDs != nil {
		var people, groups []any
		for _, s := range f.AssigneeIDs {
			kind, u, err := gid.Parse(s)
			switch {
			case err == nil && kind == gid.Person:
				people = append(people, u)
			case err == nil && kind == gid.Group:
				groups = append(groups, u)
			default:
				return nil, problem.InvalidInput("filter.assigneeIds", fmt.Errorf("%q is not a person or group id", s))
			}
		}
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			q = q.Where("false")
			if len(people) > 0 {
				q = q.WhereOr("a.person_id IN (?)", bun.List(people))
			}
			if len(groups) > 0 {
				q = q.WhereOr("a.group_id IN (?)", bun.List(groups))
			}
			return q
		})
	}
	if f.AssigneeType != nil {
		col := map[models.AssigneeType]string{
			models.AssigneePerson: "a.person_id", models.AssigneeGroup: "a.group_id", models.AssigneeEmail: "a.email",
		}[*f.AssigneeType]
		q = q.Where(col + " IS NOT NULL")
	}
	if f.Email != nil {
		// email_normalized, not lower(email), and the people as an array
		// computed first (ARRAY(…), not IN (…)): both sides of the OR are
		// then index conditions (migration 20261130000500).
		byEmail := s.Select((*models.Person)(nil)).Column("p.id").Where("p.email_normalized = lower(?)", *f.Email)
		q = q.Where("(a.email_normalized = lower(?) OR a.person_id = ANY(ARRAY(?)))", *f.Email, byEmail)
	}
	if f.Status != nil {
		q = q.Where("("+statusSQL+") IN (?)", bun.List(f.Status))
		if len(f.Status) == 0 {
			q = q.Where("false")
		}
	}
	if f.Active != nil {
		q = q.Where("a.active = ?", *f.Active)
	}
	if f.Fulfilled != nil {
		q = q.Where("a.fulfilled = ?", *f.Fulfilled)
	}
	if f.Direct != nil {
		q = q.Where("(a.via_assignment_id IS NULL) = ?", *f.Direct)
	}
	if f.ViaGroupID != nil {
		g, err := gid.Group.Parse(*f.ViaGroupID)
		if err != nil {
			return nil, problem.InvalidInput("filter.viaGroupId", err)
		}
		q = q.Where("a.via_group_id = ?", g)
	}
	if f.AssetID != nil {
		q = q.Where("coalesce(a.asset_id, l.asset_id) = ?", *f.AssetID)
	}
	for _, c := range []struct {
		cond string
		t    *time.Time
	}{
		{"a.assigned_at > ?", f.AssignedAfter},
		{"a.assigned_at < ?", f.AssignedBefore},
		{"a.expires_at > ?", f.ExpiresAfter},
		{"a.expires_at < ?", f.ExpiresBefore},
		{LastUseSQL + " < ?", f.LastUsedBefore},
	} {
		if c.t != nil {
			q = q.Where(c.cond, *c.t)
		}
	}
	// (Never used is -infinity in LastUseSQL: an index range either way.)
	if f.NeverUsed != nil && *f.NeverUsed {
		q = q.Where(LastUseSQL + " = '-infinity'::timestamptz")
	} else if f.NeverUsed != nil {
		q = q.Where(LastUseSQL + " > '-infinity'::timestamptz")
	}
	return q, nil
}

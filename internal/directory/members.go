package directory

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/gid"
	"seatgraph/internal/licensing"
	"seatgraph/internal/opt"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// GroupChange is a change of a group's fields and members made in one
// transaction, as SCIM's PUT and PATCH of a Group need: the name, the
// identity provider's id, and either the whole member list (Members, when
// not nil) or people to add and remove.
type GroupChange struct {
	ID                string
	ExpectedUpdatedAt *time.Time
	Name              *string
	ExternalID        *string
	Members           []string
	Add               []string
	Remove            []string
	// Waitlist queues newcomers on a full license instead of failing.
	Waitlist *bool
}

// ChangeGroup applies a GroupChange: leavers first (their seats are freed
// and the waitlists promoted), then newcomers (who take a seat or, with
// Waitlist, wait for one).
func ChangeGroup(ctx context.Context, db *store.DB, actor licensing.Actor, in GroupChange) (*GroupResult, error) {
	c := problem.Check{Prefix: "input."}
	id := c.ID(gid.Group, "id", in.ID)
	c.Text("name", in.Name, true)
	c.Text("externalId", in.ExternalID, false)
	members := parseIDs(&c, "members", in.Members)
	add, remove := parseIDs(&c, "add", in.Add), parseIDs(&c, "remove", in.Remove)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var res *GroupResult
	err := licensing.Write(ctx, db, actor, nil, func(t *licensing.Tx) error {
		g, err := t.LockGroup(id, "input.id")
		if err != nil {
			return err
		}
		if err := licensing.CheckFresh(&g.Record, in.ExpectedUpdatedAt); err != nil {
			return err
		}
		var cols []string
		if in.Name != nil && *in.Name != g.Name {
			g.Name, cols = *in.Name, append(cols, "name")
		}
		if in.ExternalID != nil && opt.Or(in.ExternalID, "") != opt.Or(g.ExternalID, "") {
			g.ExternalID, cols = in.ExternalID, append(cols, "external_id")
		}
		if in.Members != nil {
			current, err := t.Members(g.ID, nil)
			if err != nil {
				return err
			}
			want := uniq(members)
			add, remove = members, nil
			for _, p := range current {
				if !want[p.ID] {
					remove = append(remove, p.ID)
				}
			}
		}
		field := "input.add"
		if in.Members != nil {
			field = "input.members"
		}
		// The global lock order is people before licenses (deactivation
		// and deletion lock the person, then their licenses): share-lock
		// the newcomers now, before removeMembers locks the group's
		// licenses.
		if err := lockJoiners(t, add, field); err != nil {
			return err
		}
		removed, err := removeMembers(t, g, remove)
		if err != nil {
			return err
		}
		added, err := insertMembers(t, g, add, in.Waitlist)
		if err != nil {
			return err
		}
		res = &GroupResult{Group: g, Changed: added + removed}
		if len(cols) == 0 && added+removed == 0 {
			return nil
		}
		t.Touch(&g.Record)
		_, err = t.Scope().Update(g).Column(append(cols, "updated_at", "updated_by")...).WherePK().Exec(t.Context())
		return err
	})
	return res, err
}

// addMembers inserts the memberships that are new and gives the newcomers
// their inherited seats; the caller holds the group's lock.
func addMembers(t *licensing.Tx, g *models.Group, ids []uuid.UUID, waitlist *bool, field string) (int, error) {
	if err := lockJoiners(t, ids, field); err != nil {
		return 0, err
	}
	return insertMembers(t, g, ids, waitlist)
}

// lockJoiners share-locks the live people in ids, in id order (a person
// cannot be deleted or deactivated while joining), and refuses ids that
// name no live person. Callers take it before any license lock.
func lockJoiners(t *licensing.Tx, ids []uuid.UUID, field string) error {
	if len(ids) == 0 {
		return nil
	}
	var found []uuid.UUID
	err := t.Scope().Select((*models.Person)(nil)).Column("p.id").Where("p.id IN (?)", bun.List(ids)).
		Where("NOT p.is_deleted").OrderExpr("p.id").For("SHARE").Scan(t.Context(), &found)
	if err != nil {
		return err
	}
	if want := len(uniq(ids)); len(found) != want {
		return problem.New(problem.NotFound, field, "%d of the people were not found", want-len(found))
	}
	return nil
}

// insertMembers is addMembers once lockJoiners has locked the people.
func insertMembers(t *licensing.Tx, g *models.Group, ids []uuid.UUID, waitlist *bool) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	existing, err := memberIDs(t, g, ids)
	if err != nil {
		return 0, err
	}
	var rows []*models.GroupMember
	var fresh []uuid.UUID
	for _, id := range ids {
		if !existing[id] {
			existing[id] = true
			fresh = append(fresh, id)
			rows = append(rows, &models.GroupMember{TenantID: t.Actor().Tenant.ID, GroupID: g.ID, PersonID: id,
				AppID: t.Actor().Tenant.AppID, AddedAt: t.Now(), AddedBy: t.Actor().Subject})
		}
	}
	if len(rows) == 0 {
		return 0, nil
	}
	if _, err := t.Scope().Insert(&rows).Exec(t.Context()); err != nil {
		return 0, err
	}
	people, err := t.Members(g.ID, fresh)
	if err != nil {
		return 0, err
	}
	// Newcomers take seats (or queue) in the order the caller named them;
	// they share one added_at, so Members reads them in id order.
	at := make(map[uuid.UUID]int, len(fresh))
	for i, id := range fresh {
		at[id] = i
	}
	slices.SortStableFunc(people, func(a, b *models.Person) int { return at[a.ID] - at[b.ID] })
	return len(fresh), t.MembersAdded(g, people, waitlist)
}

// removeMembers deletes the memberships that exist and ends the leavers'
// inherited seats; the caller holds the group's lock.
func removeMembers(t *licensing.Tx, g *models.Group, ids []uuid.UUID) (int, error) {
	existing, err := memberIDs(t, g, ids)
	if err != nil || len(existing) == 0 {
		return 0, err
	}
	leaving := make([]uuid.UUID, 0, len(existing))
	for id := range existing {
		leaving = append(leaving, id)
	}
	// Seats first (licenses, then grants), memberships last: the order
	// deletePerson takes them in too.
	if err := t.MembersRemoved(g, leaving); err != nil {
		return 0, err
	}
	_, err = t.Scope().Delete((*models.GroupMember)(nil)).Where("gm.group_id = ?", g.ID).
		Where("gm.person_id IN (?)", bun.List(leaving)).Exec(t.Context())
	return len(leaving), err
}

// memberIDs says which of ids are members of g.
func memberIDs(t *licensing.Tx, g *models.Group, ids []uuid.UUID) (map[uuid.UUID]bool, error) {
	var found []uuid.UUID
	err := t.Scope().Tenantwide().Select((*models.GroupMember)(nil)).Column("gm.person_id").
		Where("gm.group_id = ?", g.ID).Where("gm.person_id IN (?)", bun.List(ids)).Scan(t.Context(), &found)
	out := make(map[uuid.UUID]bool, len(found))
	for _, id := range found {
		out[id] = true
	}
	return out, err
}

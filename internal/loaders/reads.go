package loaders

import (
	"context"

	"github.com/google/uuid"

	"seatgraph/internal/directory"
	"seatgraph/internal/economics"
	"seatgraph/internal/licensing"
	"seatgraph/internal/paging"
	"seatgraph/models"
)

// The reads of the List loaders, each for the parents of one batch.

func readAssignments(ctx context.Context, l *Loaders, parents []uuid.UUID, a AssignmentArgs) (map[uuid.UUID]paging.Page[*models.Assignment], error) {
	pages, err := licensing.AssignmentList(a.Filter, a.Order).ReadEach(ctx, l.Session,
		licensing.AssignmentParent(a.By, a.Filter, a.Order), parents, licensing.ParentOf(a.By), a.Page)
	if err != nil {
		return nil, err
	}
	var all []*models.Assignment
	for _, p := range pages {
		all = append(all, p.Items...)
	}
	return pages, l.primeBeside(ctx, all, a.Prime, a.Beside)
}

func countAssignments(ctx context.Context, l *Loaders, parents []uuid.UUID, a AssignmentArgs) (map[uuid.UUID]int, error) {
	return licensing.AssignmentList(a.Filter, nil).CountEach(ctx, l.Session, parents, a.By)
}

func readMembers(ctx context.Context, l *Loaders, parents []uuid.UUID, a MemberArgs) (map[uuid.UUID]paging.Page[*directory.Member], error) {
	return directory.MemberList(a.Filter, a.Order).ReadEach(ctx, l.Session, directory.MembersOf, parents, directory.MemberGroup, a.Page)
}

func countMembers(ctx context.Context, l *Loaders, parents []uuid.UUID, a MemberArgs) (map[uuid.UUID]int, error) {
	return directory.MemberList(a.Filter, nil).CountEach(ctx, l.Session, parents, directory.MembersOf)
}

func readGroups(ctx context.Context, l *Loaders, parents []uuid.UUID, a GroupArgs) (map[uuid.UUID]paging.Page[*directory.Membership], error) {
	return directory.GroupsOfList(a.Filter, a.Order).ReadEach(ctx, l.Session, directory.GroupsOf, parents, directory.MembershipPerson, a.Page)
}

func countGroups(ctx context.Context, l *Loaders, parents []uuid.UUID, a GroupArgs) (map[uuid.UUID]int, error) {
	return directory.GroupsOfList(a.Filter, nil).CountEach(ctx, l.Session, parents, directory.GroupsOf)
}

func readEvents(ctx context.Context, l *Loaders, parents []uuid.UUID, a paging.Args) (map[uuid.UUID]paging.Page[*models.AssignmentEvent], error) {
	return licensing.EventList().ReadEach(ctx, l.Session, licensing.EventParent, parents, licensing.EventAssignment, a)
}

func countEvents(ctx context.Context, l *Loaders, parents []uuid.UUID, _ paging.Args) (map[uuid.UUID]int, error) {
	return licensing.EventList().CountEach(ctx, l.Session, parents, licensing.EventParent)
}

func readUtilization(ctx context.Context, l *Loaders, ids []uuid.UUID, a economics.UtilizationArgs) (map[uuid.UUID][]*economics.Bucket, error) {
	return economics.Utilization(ctx, l.Session, ids, a)
}

func readUsage(ctx context.Context, l *Loaders, ids []uuid.UUID, inactiveDays int) (map[uuid.UUID]*economics.Usage, error) {
	return economics.LicenseUsage(ctx, l.Session, ids, inactiveDays)
}

func readReclaimPolicies(ctx context.Context, l *Loaders, ids []uuid.UUID, _ struct{}) (map[uuid.UUID]*models.ReclaimPolicy, error) {
	return licensing.ReclaimPolicies(ctx, l.Session, ids)
}

func readEntitlements(ctx context.Context, l *Loaders, people []uuid.UUID, _ struct{}) (map[uuid.UUID][]licensing.Entitlement, error) {
	return licensing.Entitlements(ctx, l.Session, people)
}

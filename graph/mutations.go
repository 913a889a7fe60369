package graph

import (
	"context"

	"seatgraph/graph/model"
	"seatgraph/internal/auth"
	"seatgraph/internal/directory"
	"seatgraph/internal/licensing"
	"seatgraph/internal/loaders"
	"seatgraph/internal/logging"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// actor is the writer behind a mutation: the caller's tenant, app and
// subject, with the server's default provenance. It also readies the
// request for the write: the request's read transaction ends (so it holds
// no connection while the write waits for one) and its loaders forget what
// they read (so the payload shows what the write did).
func (r *Resolver) actor(ctx context.Context) licensing.Actor {
	l := loaders.For(ctx)
	if err := l.Session.Close(); err != nil {
		logging.From(ctx).WarnContext(ctx, "ending the read transaction before a write", "error", err.Error())
	}
	l.Reset()
	p := auth.FromContext(ctx)
	return licensing.Actor{Tenant: store.Tenant{ID: p.TenantID, AppID: p.AppID}, Subject: p.Subject,
		Source: r.Source, SourceType: models.SourceAPI}
}

// userErrors splits a service error into the payload's userErrors
// (business problems: nothing was written) and a GraphQL error (anything
// else, masked by PresentError).
func userErrors(err error) ([]*model.UserError, error) {
	out := []*model.UserError{}
	if err == nil {
		return out, nil
	}
	ps, ok := problem.All(err)
	if !ok {
		return out, err
	}
	for _, p := range ps {
		ue := &model.UserError{Message: p.Message, Code: string(p.Code)}
		if p.Field != "" {
			ue.Field = &p.Field
		}
		out = append(out, ue)
	}
	return out, nil
}

// seatsOf is a license's seat counts, read from its counters.
func seatsOf(l *models.License) *model.Seats {
	if l == nil {
		return nil
	}
	s := &model.Seats{Total: l.TotalSeats, Used: l.SeatsUsed, Pending: l.SeatsPending, Waitlisted: l.SeatsWaitlisted}
	if l.TotalSeats != nil {
		available := max(*l.TotalSeats-l.SeatsUsed, 0)
		s.Available = &available
	}
	return s
}

func assignmentPayload(res *licensing.AssignResult, err error) (*model.AssignmentPayload, error) {
	p := &model.AssignmentPayload{}
	if p.UserErrors, err = userErrors(err); res != nil && err == nil && len(p.UserErrors) == 0 {
		p.Assignment, p.Seats = res.Assignment, seatsOf(res.License)
	}
	return p, err
}

func personPayload(res *directory.PersonResult, err error) (*model.PersonPayload, error) {
	p := &model.PersonPayload{}
	if p.UserErrors, err = userErrors(err); res != nil && err == nil && len(p.UserErrors) == 0 {
		p.Person, p.FulfilledInvitations = res.Person, res.Fulfilled
	}
	return p, err
}

func groupPayload(res *directory.GroupResult, err error) (*model.GroupPayload, error) {
	p := &model.GroupPayload{}
	if p.UserErrors, err = userErrors(err); res != nil && err == nil && len(p.UserErrors) == 0 {
		p.Group = res.Group
	}
	return p, err
}

func membersPayload(res *directory.GroupResult, err error) (*model.GroupMembersPayload, error) {
	p := &model.GroupMembersPayload{}
	if p.UserErrors, err = userErrors(err); res != nil && err == nil && len(p.UserErrors) == 0 {
		p.Group, p.Changed = res.Group, res.Changed
	}
	return p, err
}

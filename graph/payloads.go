package graph

import (
	"seatgraph/graph/model"
	"seatgraph/internal/directory"
	"seatgraph/internal/licensing"
	"seatgraph/internal/problem"
	"seatgraph/models"
)

// This file maps what the services return onto the API's objects:
// mutation payloads with their userErrors, and seat counts.

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
	return &model.Seats{Total: l.TotalSeats, Used: l.SeatsUsed, Pending: l.SeatsPending, Waitlisted: l.SeatsWaitlisted,
		Available: licensing.Free(l)}
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

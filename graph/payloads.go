package graph

import (
	"context"

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

// assignLicensePayload maps an assignLicense call's result, and counts
// its seat outcome.
func assignLicensePayload(ctx context.Context, in licensing.AssignInput, res *licensing.AssignResult,
	err error) (*model.AssignLicensePayload, error) {
	p := &model.AssignLicensePayload{}
	if p.UserErrors, err = userErrors(err); res != nil && err == nil && len(p.UserErrors) == 0 {
		p.Assignment, p.Created, p.Seats = res.Assignment, res.Created, res.License.Seats()
		countSeatOutcomes(ctx, in.DryRun, []*licensing.AssignResult{res}, nil)
	} else if err == nil {
		countSeatOutcomes(ctx, in.DryRun, nil, p.UserErrors)
	}
	return p, err
}

// assignLicensesPayload maps an assignLicenses call's results, and counts
// their seat outcomes.
func assignLicensesPayload(ctx context.Context, in licensing.AssignManyInput, res []*licensing.AssignResult,
	err error) (*model.AssignLicensesPayload, error) {
	p := &model.AssignLicensesPayload{Assignments: []*models.Assignment{}}
	p.UserErrors, err = userErrors(err)
	for _, a := range res {
		p.Assignments = append(p.Assignments, a.Assignment)
	}
	if err == nil {
		countSeatOutcomes(ctx, in.DryRun, res, p.UserErrors)
	}
	return p, err
}

func assignmentPayload(res *licensing.AssignResult, err error) (*model.AssignmentPayload, error) {
	p := &model.AssignmentPayload{}
	if p.UserErrors, err = userErrors(err); res != nil && err == nil && len(p.UserErrors) == 0 {
		p.Assignment, p.Seats = res.Assignment, res.License.Seats()
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

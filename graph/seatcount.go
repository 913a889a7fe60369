package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"seatgraph/graph/model"
	"seatgraph/internal/licensing"
	"seatgraph/internal/problem"
	"seatgraph/internal/telemetry"
	"seatgraph/models"
)

// CountSeats is field middleware that counts the seat rules' outcomes of
// committed assignLicense and assignLicenses calls (dry runs are not
// counted) from their payloads: a new grant holding a seat is granted, a
// new grant queued is waitlisted, a SEAT_LIMIT_REACHED user error is
// seat_limit_reached.
func CountSeats(ctx context.Context, next graphql.Resolver) (any, error) {
	res, err := next(ctx)
	fc := graphql.GetFieldContext(ctx)
	if err != nil || fc == nil || fc.Object != "Mutation" {
		return res, err
	}
	var assigned []*models.Assignment
	var userErrs []*model.UserError
	switch p := res.(type) {
	case *model.AssignLicensePayload:
		if in, ok := fc.Args["input"].(licensing.AssignInput); !ok || (in.DryRun != nil && *in.DryRun) {
			return res, err
		}
		if p.Created && p.Assignment != nil {
			assigned = []*models.Assignment{p.Assignment}
		}
		userErrs = p.UserErrors
	case *model.AssignLicensesPayload:
		if in, ok := fc.Args["input"].(licensing.AssignManyInput); !ok || (in.DryRun != nil && *in.DryRun) {
			return res, err
		}
		assigned, userErrs = p.Assignments, p.UserErrors
	default:
		return res, err
	}
	var granted, waitlisted, limit int
	for _, a := range assigned {
		if a.WaitlistedAt != nil {
			waitlisted++
		} else {
			granted++
		}
	}
	for _, e := range userErrs {
		if e.Code == string(problem.SeatLimitReached) {
			limit++
		}
	}
	telemetry.CountSeats(ctx, telemetry.SeatGranted, granted)
	telemetry.CountSeats(ctx, telemetry.SeatWaitlisted, waitlisted)
	telemetry.CountSeats(ctx, telemetry.SeatLimitReached, limit)
	return res, err
}

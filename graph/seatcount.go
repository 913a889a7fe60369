package graph

import (
	"context"

	"seatgraph/graph/model"
	"seatgraph/internal/licensing"
	"seatgraph/internal/opt"
	"seatgraph/internal/problem"
	"seatgraph/internal/telemetry"
)

// countSeatOutcomes counts, into the seat metric, the seat rules'
// outcomes of a committed assignLicense or assignLicenses call (dry runs
// are not counted): each new grant (Created) holding a seat is granted,
// each new grant queued is waitlisted, each SEAT_LIMIT_REACHED user error
// is seat_limit_reached. An update of a live grant there already was
// (Created false) is none of them.
func countSeatOutcomes(ctx context.Context, dryRun *bool, results []*licensing.AssignResult, userErrs []*model.UserError) {
	if opt.True(dryRun) {
		return
	}
	var granted, waitlisted, limit int
	for _, r := range results {
		switch {
		case r == nil || !r.Created || r.Assignment == nil:
		case r.Assignment.WaitlistedAt != nil:
			waitlisted++
		default:
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
}

package graph

import (
	"seatgraph/graph/model"
	"seatgraph/internal/gid"
	"seatgraph/internal/licensing"
)

// usagesPayload maps recordUsages' per-item results: an item's problems
// are its error (the first of them), not the payload's userErrors, which
// say that nothing was written.
func usagesPayload(res []licensing.UsageResult, err error) (*model.RecordUsagesPayload, error) {
	p := &model.RecordUsagesPayload{Results: make([]*model.UsageResult, 0, len(res))}
	if p.UserErrors, err = userErrors(err); err != nil || len(p.UserErrors) > 0 {
		return p, err
	}
	for _, r := range res {
		out := &model.UsageResult{Index: r.Index, AssignmentIds: make([]string, len(r.AssignmentIDs)), Updated: r.Updated}
		for i, id := range r.AssignmentIDs {
			out.AssignmentIds[i] = gid.Assignment.Format(id)
		}
		if len(r.Problems) > 0 {
			ue, _ := userErrors(r.Problems[0])
			out.Error = ue[0]
			p.Failed++
		}
		p.Updated += r.Updated
		p.Results = append(p.Results, out)
	}
	return p, nil
}

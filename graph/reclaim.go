package graph

import (
	"github.com/google/uuid"

	"seatgraph/graph/model"
	"seatgraph/internal/gid"
	"seatgraph/internal/licensing"
	"seatgraph/models"
)

// reclaimPolicyPayload maps setReclaimPolicy's result.
func reclaimPolicyPayload(res *licensing.ReclaimPolicyResult, err error) (*model.SetReclaimPolicyPayload, error) {
	p := &model.SetReclaimPolicyPayload{}
	if p.UserErrors, err = userErrors(err); res != nil && err == nil && len(p.UserErrors) == 0 {
		p.Policy, p.NextRun = res.Policy, res.Plan
	}
	return p, err
}

// groupIDs are a policy's excluded groups as TypeIDs.
func groupIDs(p *models.ReclaimPolicy) ([]string, error) {
	out := make([]string, len(p.ExcludeGroupIDs))
	for i, s := range p.ExcludeGroupIDs {
		id, err := uuid.Parse(s)
		if err != nil {
			return nil, err
		}
		out[i] = gid.Group.Format(id)
	}
	return out, nil
}

package licensing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/gid"
	"seatgraph/internal/lease"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// This file is the reclaim job (SPEC §10): one replica at a time (the
// "reclaim" lease), tenant by tenant (lease.EachTenant), each enabled
// policy (and each disabled one with warnings left to cancel:
// SetReclaimPolicy cancels at most reclaimBatch of them in its request)
// in a transaction of its own as the policy's actor
// ("reclaim-policy:lic_…", SYSTEM). A license's run locks the license
// (the engine's order: license, then its policy, then its assignments),
// reads its plan (reclaim.go) under the lock and carries it out: it
// cancels the warnings that no longer stand (RECLAIM_CANCELLED), suspends
// or revokes the warned seats whose grace has passed (SUSPENDED /
// REVOKED, through change and endGrants; revoked seats go to the
// waitlist before commit), and warns new candidates (RECLAIM_WARNING,
// the assignment.reclaim_warning event). A run that fails rolls its
// license's transaction back whole; the next run does it again.

// reclaimLease is the job_leases row of the reclaim job.
const reclaimLease = "reclaim"

// reclaimRun tunes a run for tests: at, when set, is the clock of its
// transactions (else the database's); inside, when set, is called in each
// license's transaction after its work, before it commits (an error rolls
// the license's work back).
type reclaimRun struct {
	at     time.Time
	inside func(tenant string, license uuid.UUID) error
}

// ReclaimDue runs every tenant's reclaim policies once and returns
// how many seats it warned, acted on or whose warning it cancelled. Only
// one replica runs it at a time; the others return ErrLeaseHeld at once.
func ReclaimDue(ctx context.Context, db *store.DB) (int, error) {
	return reclaimDue(ctx, db, reclaimRun{})
}

func reclaimDue(ctx context.Context, db *store.DB, run reclaimRun) (int, error) {
	l, err := lease.Take(ctx, db, reclaimLease, lease.Holder(), leaseTTL, leaseTTL/2)
	if err != nil {
		return 0, err
	}
	defer l.Release(ctx)
	return lease.EachTenant(ctx, db, func(ctx context.Context, tenant string) (int, error) {
		return reclaimTenant(ctx, db, tenant, run, l.Keep)
	})
}

// reclaimTenant runs a tenant's enabled policies, and its disabled ones
// with warnings left to cancel, in license order, each on its own (one
// failing does not stop the others); keep, before each, renews the run's
// lease.
func reclaimTenant(ctx context.Context, db *store.DB, tenant string, run reclaimRun, keep func(context.Context) error) (int, error) {
	var licenses []uuid.UUID
	err := db.Session(ctx, store.Tenant{ID: tenant}).Read(ctx, func(s store.Scope) error {
		// A disabled policy's warnings left by setReclaimPolicy's request
		// are cancelled by the runs too (cancelStale).
		return s.Select((*models.ReclaimPolicy)(nil)).Column("rp.license_id").
			Where("rp.enabled OR EXISTS (SELECT FROM reclaim_warnings AS w WHERE w.tenant_id = ? AND w.license_id = rp.license_id)", tenant).
			OrderExpr("rp.license_id").Scan(ctx, &licenses)
	})
	if err != nil {
		return 0, err
	}
	total := 0
	var errs []error
	for _, id := range licenses {
		if err := keep(ctx); err != nil {
			return total, errors.Join(append(errs, err)...)
		}
		n, err := reclaimLicense(ctx, db, tenant, id, run)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("license %s: %w", gid.License.Format(id), err))
		}
	}
	return total, errors.Join(errs...)
}

// reclaimLicense carries out the plan of one license's policy, in one
// transaction, and returns how many seats it changed.
func reclaimLicense(ctx context.Context, db *store.DB, tenant string, license uuid.UUID, run reclaimRun) (int, error) {
	n := 0
	err := Write(ctx, db, reclaimActor(tenant, license, run.at), nil, func(t *Tx) error {
		n = 0
		l, err := t.lockLicense(license, "")
		if p, ok := problem.As(err); ok && p.Code == problem.NotFound {
			return nil // deleted: its policy has nothing left to do
		} else if err != nil {
			return err
		}
		p, err := t.lockPolicy(license)
		if err != nil || p == nil {
			return err
		}
		if err := t.pruneWarnings(license); err != nil {
			return err
		}
		plan, err := reclaimPlan(t.ctx, t.s, l, p, t.now, true)
		if err != nil {
			return err
		}
		if n, err = t.carryOut(plan); err != nil {
			return err
		}
		if run.inside != nil {
			return run.inside(tenant, license)
		}
		return nil
	})
	return n, err
}

// carryOut does what plan says (the caller holds the license's lock and
// the seats' locks) and returns how many seats it changed.
func (t *Tx) carryOut(plan *ReclaimPlan) (int, error) {
	p := plan.Policy
	if err := t.cancelWarnings(plan.Cancel); err != nil {
		return 0, err
	}
	due := make([]*models.Assignment, len(plan.Due))
	ids := make([]uuid.UUID, len(plan.Due))
	for i, c := range plan.Due {
		due[i], ids[i] = c.Assignment, c.Assignment.ID
	}
	if p.Action == models.ReclaimRevoke {
		reason := fmt.Sprintf("unused for %d days and not used during the %d-day grace period (reclaim policy)",
			p.InactiveDays, p.GraceDays)
		if err := t.endGrants(due, models.EventRevoked, reason); err != nil {
			return 0, err
		}
	} else {
		off := false
		for _, a := range due {
			if err := t.change(a, settable{Active: &off}); err != nil {
				return 0, err
			}
		}
	}
	if err := t.deleteWarnings(ids); err != nil {
		return 0, err
	}
	if err := t.warn(p, plan.Warn); err != nil {
		return 0, err
	}
	return len(plan.Cancel) + len(plan.Due) + len(plan.Warn), nil
}

// warn records warnings of the candidates, each with a RECLAIM_WARNING
// history row (and so an assignment.reclaim_warning event).
func (t *Tx) warn(p *models.ReclaimPolicy, cands []*ReclaimCandidate) error {
	if len(cands) == 0 {
		return nil
	}
	rows := make([]*models.ReclaimWarning, len(cands))
	events := make([]*models.AssignmentEvent, len(cands))
	for i, c := range cands {
		a := c.Assignment
		rows[i] = &models.ReclaimWarning{TenantID: t.actor.Tenant.ID, AssignmentID: a.ID, LicenseID: a.LicenseID,
			WarnedAt: t.now, UnusedSince: c.UnusedSince, Terms: p.Terms}
		events[i] = t.event(a, models.EventReclaimWarning, map[string]any{
			"unusedSince": c.UnusedSince, "lastUsedAt": a.LastUsedAt, "inactiveDays": p.InactiveDays,
			"graceDays": p.GraceDays, "action": p.Action, "deadline": t.now.Add(time.Duration(p.GraceDays) * day)})
	}
	if _, err := t.s.Insert(&rows).Exec(t.ctx); err != nil {
		return err
	}
	return t.insertEvents(events)
}

// cancelWarnings deletes warnings that no longer stand, each with a
// RECLAIM_CANCELLED history row saying why.
func (t *Tx) cancelWarnings(cands []*ReclaimCandidate) error {
	if len(cands) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, len(cands))
	events := make([]*models.AssignmentEvent, len(cands))
	for i, c := range cands {
		ids[i] = c.Assignment.ID
		changes := map[string]any{"warnedAt": c.WarnedAt, "lastUsedAt": c.Assignment.LastUsedAt}
		if c.Reason != nil {
			changes["reason"] = *c.Reason
		}
		events[i] = t.event(c.Assignment, models.EventReclaimCancelled, changes)
	}
	if err := t.deleteWarnings(ids); err != nil {
		return err
	}
	return t.insertEvents(events)
}

// cancelStale cancels, in setReclaimPolicy's request, the first
// reclaimBatch warnings (in assignment id order) that the change of policy
// p's terms ended (staleSQL), each with a RECLAIM_CANCELLED history row by
// the caller: the request's work is bounded however many warnings the
// license has, and the job's runs cancel the rest (the plan lists them in
// cancel). The caller holds the license's and the policy's locks; the
// seats are locked after them. The warnings of grants that ended are left
// to the job's pruneWarnings.
func (t *Tx) cancelStale(l *models.License, p *models.ReclaimPolicy) error {
	stale, staleArgs := staleSQL(p)
	var rows []*candidateRow
	err := selectAssignments(t.s.Tenantwide()).
		Join("JOIN reclaim_warnings AS rw ON rw.tenant_id = a.tenant_id AND rw.assignment_id = a.id").
		ColumnExpr("rw.warned_at").Where("rw.license_id = ?", l.ID).Where(liveSQL).Where(stale, staleArgs...).
		OrderExpr("a.id").Limit(reclaimBatch).For("UPDATE OF a").Scan(t.ctx, &rows)
	if err != nil {
		return err
	}
	reason := staleReason(p)
	cands := make([]*ReclaimCandidate, len(rows))
	for i, r := range rows {
		cands[i] = &ReclaimCandidate{Assignment: &r.Assignment, WarnedAt: r.WarnedAt, Reason: &reason}
	}
	return t.cancelWarnings(cands)
}

// pruneWarnings deletes (a batch at a time) the warnings of a license's
// grants that have ended meanwhile (revoked, expired, deleted): their
// history already says how they ended.
func (t *Tx) pruneWarnings(license uuid.UUID) error {
	var ended []uuid.UUID
	err := t.s.Select((*models.ReclaimWarning)(nil)).Column("rw.assignment_id").
		Join("JOIN assignments AS a ON a.tenant_id = rw.tenant_id AND a.id = rw.assignment_id").
		Where("rw.license_id = ?", license).Where("NOT ("+liveSQL+")").OrderExpr("rw.assignment_id").
		Limit(reclaimBatch).Scan(t.ctx, &ended)
	if err != nil {
		return err
	}
	return t.deleteWarnings(ended)
}

// deleteWarnings deletes the warnings of the assignments ids.
func (t *Tx) deleteWarnings(ids []uuid.UUID) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := t.s.Delete((*models.ReclaimWarning)(nil)).Where("rw.assignment_id IN (?)", bun.List(ids)).Exec(t.ctx)
	return err
}

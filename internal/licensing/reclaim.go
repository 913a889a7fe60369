package licensing

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/gid"
	"seatgraph/internal/opt"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// This file holds reclaim policies (SPEC §10): setReclaimPolicy, a
// license's policy, and the plan of the reclaim job's next run over one
// license, which reclaimCandidates shows and the job (reclaimjob.go)
// carries out. The plan's four lists are read by the same statements in
// both, so the preview is what the run does.
//
// A seat is a candidate when it is a direct, live, seat-holding grant
// (no group grant, no inherited grant, not waitlisted, its person not
// deactivated, its end not passed; for SUSPEND, not suspended already)
// whose holder is in none of the excluded groups, and which has not been
// used for inactiveDays (never used: since assignedAt, or since it took
// its seat after holding none, whichever is later; a use of the holder's
// other grants of the license counts: unusedSQL). A warning stands while
// its seat is still a candidate and unused since the warning's
// unused_since, and while the policy's terms are those it was given under
// (staleSQL); usage only ever moves lastUsedAt forward, so any usage
// recorded after the warning and dated after unused_since cancels it.

// reclaimBatch bounds each list of a license's run: a run cancels, acts
// on and warns at most this many seats of each license (each list in
// assignment id order); the rest wait for the next run. reclaimCandidates
// shows the same bounded lists.
const reclaimBatch = 500

// The bounds of a policy's days.
const (
	maxInactiveDays = 3650
	maxGraceDays    = 365
	maxExcluded     = 100
)

const day = 24 * time.Hour

// ReclaimPolicyInput is the input of setReclaimPolicy: the license's whole
// policy (setting it again replaces it).
type ReclaimPolicyInput struct {
	LicenseID       string
	InactiveDays    int
	GraceDays       int
	Action          models.ReclaimAction
	ExcludeGroupIds []string
	Enabled         *bool
	DryRun          *bool
}

// ReclaimCandidate is one seat in a plan: the grant, since when it has
// been unused, and for a warned seat when it was warned and its deadline
// (for a seat about to be warned, the deadline a warning now would give).
type ReclaimCandidate struct {
	Assignment  *models.Assignment
	UnusedSince time.Time
	WarnedAt    *time.Time
	Deadline    time.Time
	// Reason says why a warning is cancelled.
	Reason *string
}

// ReclaimPlan is what the reclaim job's next run does to one license's
// seats, at At: cancel the warnings that no longer stand, act on the
// warned seats whose deadline has passed (Due), and warn new candidates;
// InGrace are the warned seats still waiting.
type ReclaimPlan struct {
	Policy  *models.ReclaimPolicy
	At      time.Time
	Cancel  []*ReclaimCandidate
	Due     []*ReclaimCandidate
	InGrace []*ReclaimCandidate
	Warn    []*ReclaimCandidate
}

// ReclaimPolicyResult is what setReclaimPolicy answers: the policy and
// the plan of the job's next run under it.
type ReclaimPolicyResult struct {
	Policy *models.ReclaimPolicy
	Plan   *ReclaimPlan
}

// reclaimActor is the actor of a license's policy: the subject
// "reclaim-policy:lic_…" names the policy (one per license) in history
// rows, events and revokedBy; the source type is SYSTEM.
func reclaimActor(tenant string, license uuid.UUID, at time.Time) Actor {
	a := system(tenant)
	a.Subject, a.At = ReclaimSubject(license), at
	return a
}

// ReclaimSubject is the subject of a license's reclaim policy.
func ReclaimSubject(license uuid.UUID) string { return "reclaim-policy:" + gid.License.Format(license) }

// SetReclaimPolicy sets a license's reclaim policy and answers it with
// the plan of the job's next run under it. With dryRun nothing is written.
//
// Disabling a policy, or changing its action or grace period (which a
// warning promised), ends its pending warnings, of which a license may
// have any number: the request's work is bounded all the same. It moves
// the policy to new terms (Terms, one write), and from then on the
// warnings given under the old terms no longer stand: the job never acts
// on them, and the plan (reclaimCandidates, nextRun) lists them in cancel
// with TermsReason. The request itself cancels the first reclaimBatch of
// them in assignment id order (RECLAIM_CANCELLED by the caller, as a
// license of few warnings always had it); each run of the job cancels the
// next reclaimBatch (by the policy), whether the policy is enabled or not.
func SetReclaimPolicy(ctx context.Context, db *store.DB, actor Actor, in ReclaimPolicyInput) (*ReclaimPolicyResult, error) {
	c := problem.Check{Prefix: "input."}
	license := c.ID(gid.License, "licenseId", in.LicenseID)
	c.Range("inactiveDays", &in.InactiveDays, 1, maxInactiveDays)
	c.Range("graceDays", &in.GraceDays, 0, maxGraceDays)
	if len(in.ExcludeGroupIds) > maxExcluded {
		c.Add(problem.Invalid, "excludeGroupIds", "at most %d groups", maxExcluded)
	}
	if in.Action != models.ReclaimSuspend && in.Action != models.ReclaimRevoke {
		c.Add(problem.Invalid, "action", "must be SUSPEND or REVOKE")
	}
	var groups []uuid.UUID
	for _, s := range in.ExcludeGroupIds {
		groups = append(groups, c.ID(gid.Group, "excludeGroupIds", s))
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	groups = sortedIDs(groups)
	var res *ReclaimPolicyResult
	err := Write(ctx, db, actor, in.DryRun, func(t *Tx) error {
		// The license's lock first (the engine's order), so that the
		// policy changes between two runs of the job, never within one.
		l, err := t.lockLicense(license, "input.licenseId")
		if err != nil {
			return err
		}
		if err := t.checkGroups(groups); err != nil {
			return err
		}
		p, err := t.lockPolicy(license)
		if err != nil {
			return err
		}
		// A warning promises its action and deadline: new terms end the
		// pending warnings (the next run warns again under them).
		enabled := opt.Or(in.Enabled, true)
		var stale string // why the pending warnings no longer stand
		switch {
		case p == nil || !p.Enabled: // no warning of its terms: the job gave none since
		case !enabled:
			stale = "the reclaim policy was disabled"
		case p.Action != in.Action || p.GraceDays != in.GraceDays:
			stale = "the reclaim policy's action or grace period changed: the seat is warned again under the new terms"
		}
		if p == nil {
			p = &models.ReclaimPolicy{TenantID: t.actor.Tenant.ID, LicenseID: license, AppID: l.AppID,
				CreatedAt: t.now, CreatedBy: t.actor.Subject}
		}
		p.InactiveDays, p.GraceDays, p.Action, p.Enabled = in.InactiveDays, in.GraceDays, in.Action, enabled
		if stale != "" {
			p.Terms, p.TermsReason = p.Terms+1, &stale
		}
		p.ExcludeGroupIDs = make([]string, len(groups))
		for i, g := range groups {
			p.ExcludeGroupIDs[i] = g.String()
		}
		p.UpdatedAt, p.UpdatedBy = t.now, t.actor.Subject
		if _, err := t.s.Insert(p).On("CONFLICT (tenant_id, license_id) DO UPDATE").
			Set("inactive_days = EXCLUDED.inactive_days, grace_days = EXCLUDED.grace_days, action = EXCLUDED.action").
			Set("exclude_group_ids = EXCLUDED.exclude_group_ids, enabled = EXCLUDED.enabled").
			Set("terms = EXCLUDED.terms, terms_reason = EXCLUDED.terms_reason").
			Set("updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by").Exec(t.ctx); err != nil {
			return err
		}
		if stale != "" {
			if err := t.cancelStale(l, p); err != nil {
				return err
			}
		}
		plan, err := reclaimPlan(t.ctx, t.s, l, p, t.now, false)
		res = &ReclaimPolicyResult{Policy: p, Plan: plan}
		return err
	})
	return res, err
}

// checkGroups refuses excluded groups that are not live groups of the
// tenant the caller sees.
func (t *Tx) checkGroups(ids []uuid.UUID) error {
	if len(ids) == 0 {
		return nil
	}
	var found []uuid.UUID
	err := t.s.Select((*models.Group)(nil)).Column("g.id").Where("g.id IN (?)", bun.List(ids)).
		Where("NOT g.is_deleted").Scan(t.ctx, &found)
	if err != nil {
		return err
	}
	seen := map[uuid.UUID]bool{}
	for _, id := range found {
		seen[id] = true
	}
	var ps problem.List
	for _, id := range ids {
		if !seen[id] {
			ps = append(ps, problem.New(problem.NotFound, "input.excludeGroupIds", "group %s not found", gid.Group.Format(id)))
		}
	}
	return ps.Err()
}

// lockPolicy locks a license's policy (after the license); nil when it
// has none.
func (t *Tx) lockPolicy(license uuid.UUID) (*models.ReclaimPolicy, error) {
	var rows []*models.ReclaimPolicy
	err := t.s.Tenantwide().Select(&rows).Where("rp.license_id = ?", license).For("UPDATE").Scan(t.ctx)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return rows[0], nil
}

// staleSQL is the condition on a warning (reclaim_warnings rw) of policy p
// to have ended with a change of p's terms, with its arguments: given
// under earlier terms (p was disabled or its action or grace period
// changed since), or any warning of p while it is disabled. Such a
// warning no longer stands, whatever its seat: the plan lists it in
// cancel, never in due (reclaimPlan), and SetReclaimPolicy and the job
// cancel it (cancelStale, carryOut).
func staleSQL(p *models.ReclaimPolicy) (string, []any) {
	if !p.Enabled {
		return "true", nil
	}
	return "rw.terms < ?", []any{p.Terms}
}

// staleReason is why the warnings staleSQL finds no longer stand.
func staleReason(p *models.ReclaimPolicy) string {
	if p.TermsReason == nil || !p.Enabled {
		return "the reclaim policy was disabled"
	}
	return *p.TermsReason
}

// ReclaimPolicies reads the policies of the licenses ids (the caller
// sees them), by license; a license without one is missing.
func ReclaimPolicies(ctx context.Context, sess *store.Session, ids []uuid.UUID) (map[uuid.UUID]*models.ReclaimPolicy, error) {
	var rows []*models.ReclaimPolicy
	err := sess.Read(ctx, func(s store.Scope) error {
		return s.Tenantwide().Select(&rows).Where("rp.license_id = ANY(?)", store.UUIDs(ids)).Scan(ctx)
	})
	out := make(map[uuid.UUID]*models.ReclaimPolicy, len(rows))
	for _, p := range rows {
		out[p.LicenseID] = p
	}
	return out, err
}

// ReclaimCandidates is the plan of the reclaim job's next run over a
// license the caller sees: nil when the license has no policy; when its
// policy is disabled, the warnings left to cancel. An application caller
// sees its own app's seats only (the run acts on the license's seats
// whichever app granted them).
func ReclaimCandidates(ctx context.Context, sess *store.Session, licenseID string) (*ReclaimPlan, error) {
	id, err := gid.License.Parse(licenseID)
	if err != nil {
		return nil, problem.InvalidInput("licenseId", err)
	}
	var plan *ReclaimPlan
	err = sess.Read(ctx, func(s store.Scope) error {
		var ls []*models.License
		if err := selectLicenses(s).Where("l.id = ?", id).Where("NOT l.is_deleted").Scan(ctx, &ls); err != nil {
			return err
		}
		if len(ls) == 0 {
			return problem.New(problem.NotFound, "licenseId", "license %s not found", licenseID)
		}
		var ps []*models.ReclaimPolicy
		if err := s.Tenantwide().Select(&ps).Where("rp.license_id = ?", id).Scan(ctx); err != nil || len(ps) == 0 {
			return err
		}
		plan, err = reclaimPlan(ctx, s, ls[0], ps[0], sess.Now(), false)
		return err
	})
	return plan, err
}

// seatedSQL is when a grant (assignments a) last took its seat after
// holding none — its last promotion from the waitlist or reactivation
// (seat rule 9) — or an invitation's was taken up by its person
// (fulfilled), or it was last resumed after a suspension: null when none
// of these happened since assignedAt. A seat is unused since the latest
// of lastUsedAt, assignedAt and then (unusedSQL): a waiter promoted today
// is not idle for the days it waited, nor a new hire for the days the
// invitation waited, nor a seat an admin resumed today (after the policy
// suspended it, say) for the months before. Its one argument is the
// tenant.
const seatedSQL = "(SELECT max(e.occurred_at) FROM " + seatTakenSQL + ")"

// seatTakenSQL is the history rows of a grant (assignments a) taking its
// seat after holding none, as the FROM … WHERE of a subquery; its one
// argument is the tenant. (The subqueries of this file compare tenant_id
// with the tenant's value, a parameter, never with a.tenant_id: Citus
// then finds their one shard, docs/scale-out.md rule 7; compared with
// a.tenant_id, reclaimCandidates ran on every shard and Citus refused the
// job's locking read.)
const seatTakenSQL = "assignment_events AS e WHERE e.tenant_id = ? AND e.assignment_id = a.id" +
	" AND e.type IN ('" + string(models.EventPromoted) + "', '" + string(models.EventReactivated) + "', '" +
	string(models.EventFulfilled) + "', '" + string(models.EventResumed) + "')"

// otherGrantsSQL is the holder's other live grants (assignments o) of
// the license of a grant (assignments a), as the FROM … WHERE of a
// subquery: a person holds one seat per license however many grants
// reach them (seat rule 1), so a use recorded on any of them is a use of
// the seat. Its one argument is the tenant.
const otherGrantsSQL = "assignments AS o WHERE o.tenant_id = ? AND o.person_id = a.person_id" +
	" AND o.license_id = a.license_id AND o.id <> a.id AND NOT o.is_deleted AND o.revoked_at IS NULL AND o.expired_at IS NULL"

// unusedSQL is since when a seat (assignments a) has been unused; its
// arguments are unusedArgs(tenant). A use dated before the grant (an
// agent's buffered report of an earlier seat) does not make a new seat
// idle: assignedAt is the floor (greatest ignores nulls).
const unusedSQL = "greatest(a.last_used_at, a.assigned_at, " + seatedSQL +
	", (SELECT max(o.last_used_at) FROM " + otherGrantsSQL + "))"

// unusedArgs are the arguments of unusedSQL: the tenant, for each of its
// two subqueries.
func unusedArgs(tenant string) []any { return []any{tenant, tenant} }

// candidateSQL is the condition on a seat (assignments a, joined with
// LastUseJoin) to be a candidate of policy p at now, with its arguments.
// Unused for inactiveDays (unusedSQL) is written without greatest, on
// LastUseSQL, so that the license's range of assignment_use_license_idx
// serves it. The same bound is also written on a.last_used_at: the job
// locks the seats it reads (FOR UPDATE OF a), and when a usage committed
// while it waited for a seat's lock, PostgreSQL re-checks the conditions
// on the seat's newest row of assignments but on the assignment_use row
// its snapshot joined: on lu alone, a seat used that instant was warned.
func candidateSQL(p *models.ReclaimPolicy, now time.Time) (string, []any) {
	cond := LastUseLicense + " = ? AND " + HoldsSeatSQL + " AND a.via_assignment_id IS NULL AND (a.expires_at IS NULL OR a.expires_at > ?)" +
		" AND " + LastUseSQL + " <= ? AND (a.last_used_at IS NULL OR a.last_used_at <= ?) AND a.assigned_at <= ?" +
		" AND NOT EXISTS (SELECT FROM " + seatTakenSQL + " AND e.occurred_at > ?)" +
		" AND NOT EXISTS (SELECT FROM " + otherGrantsSQL + " AND o.last_used_at > ?)"
	cut := now.Add(-time.Duration(p.InactiveDays) * day)
	args := []any{p.LicenseID, now, cut, cut, cut, p.TenantID, cut, p.TenantID, cut}
	if p.Action == models.ReclaimSuspend {
		cond += " AND a.active"
	}
	if len(p.ExcludeGroupIDs) > 0 {
		ids := make(store.UUIDs, 0, len(p.ExcludeGroupIDs))
		for _, g := range p.ExcludeGroupIDs {
			ids = append(ids, uuid.MustParse(g))
		}
		// (The tenant's value again, rule 7.)
		cond += ` AND NOT EXISTS (SELECT FROM group_members AS gm JOIN groups AS xg ON xg.tenant_id = gm.tenant_id AND xg.id = gm.group_id
			WHERE gm.tenant_id = ? AND xg.tenant_id = ? AND gm.person_id = a.person_id AND gm.group_id = ANY(?) AND NOT xg.is_deleted)`
		args = append(args, p.TenantID, p.TenantID, ids)
	}
	return cond, args
}

// candidateRow is a seat read for a plan, with its warning when it has one.
type candidateRow struct {
	models.Assignment `bun:",extend"`
	WarnedAt          *time.Time `bun:"warned_at,scanonly"`
	Unused            time.Time  `bun:"unused,scanonly"`
	Used              bool       `bun:"used,scanonly"`
	Stale             bool       `bun:"stale,scanonly"`
}

// reclaimPlan reads the plan of policy p over the license l at now; with
// lock, the seats to cancel, act on and warn are locked (after the
// license, whose lock the caller holds) and re-checked under the lock.
// An ended license has an empty plan; a disabled policy's plan is the
// warnings it still has, to cancel.
func reclaimPlan(ctx context.Context, s store.Scope, l *models.License, p *models.ReclaimPolicy, now time.Time, lock bool) (*ReclaimPlan, error) {
	plan := &ReclaimPlan{Policy: p, At: now}
	if l.IsDeleted || Expired(l, now) {
		return plan, nil
	}
	stale, staleArgs := staleSQL(p)
	cand, args := candidateSQL(p, now)
	grace := time.Duration(p.GraceDays) * day
	// A warning stands while its seat is a candidate and unused since.
	stands := "coalesce((" + cand + ") AND " + unusedSQL + " <= rw.unused_since, false)"
	standsArgs := append(append([]any{}, args...), unusedArgs(p.TenantID)...)
	base := func(warned bool) *bun.SelectQuery {
		q := selectAssignments(s).Join(LastUseJoin).ColumnExpr(unusedSQL+" AS unused", unusedArgs(p.TenantID)...)
		if warned {
			q = q.Join("JOIN reclaim_warnings AS rw ON rw.tenant_id = a.tenant_id AND rw.assignment_id = a.id").
				ColumnExpr("rw.warned_at").
				ColumnExpr(unusedSQL+" > rw.unused_since AS used", unusedArgs(p.TenantID)...).
				ColumnExpr("("+stale+") AS stale", staleArgs...).
				Where("rw.license_id = ?", p.LicenseID)
		}
		if lock {
			q = q.For("UPDATE OF a")
		}
		return q.OrderExpr("a.id").Limit(reclaimBatch)
	}
	read := func(q *bun.SelectQuery, reason bool) ([]*ReclaimCandidate, error) {
		var rows []*candidateRow
		if err := q.Scan(ctx, &rows); err != nil {
			return nil, err
		}
		out := make([]*ReclaimCandidate, len(rows))
		for i, r := range rows {
			c := &ReclaimCandidate{Assignment: &r.Assignment, UnusedSince: r.Unused.UTC(), WarnedAt: r.WarnedAt,
				Deadline: now.Add(grace)}
			if r.WarnedAt != nil {
				c.Deadline = r.WarnedAt.Add(grace)
			}
			if reason {
				why := "the seat no longer matches the reclaim policy"
				if r.Stale {
					why = staleReason(p)
				} else if r.Used {
					why = "the seat was used after the warning"
				}
				c.Reason = &why
			}
			out[i] = c
		}
		return out, nil
	}
	// A warning given under earlier terms never stands (staleSQL); under a
	// disabled policy, none does.
	stands, standsArgs = "(NOT ("+stale+") AND "+stands+")", append(append([]any{}, staleArgs...), standsArgs...)
	var err error
	// Warnings of seats still live whose warning no longer stands.
	if plan.Cancel, err = read(base(true).Where(liveSQL).Where("(a.expires_at IS NULL OR a.expires_at > ?)", now).
		Where("NOT "+stands, standsArgs...), true); err != nil {
		return nil, err
	}
	if !p.Enabled {
		return plan, nil // the warnings to cancel are all a disabled policy's run does
	}
	if plan.Due, err = read(base(true).Where(stands, standsArgs...).Where("rw.warned_at <= ?", now.Add(-grace)), false); err != nil {
		return nil, err
	}
	if !lock {
		q := base(true).Where(stands, standsArgs...).Where("rw.warned_at > ?", now.Add(-grace))
		if plan.InGrace, err = read(q, false); err != nil {
			return nil, err
		}
	}
	plan.Warn, err = read(base(false).Where(cand, args...).
		Where("NOT EXISTS (SELECT FROM reclaim_warnings AS w WHERE w.tenant_id = ? AND w.assignment_id = a.id)", p.TenantID), false)
	return plan, err
}

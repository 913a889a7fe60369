package licensing

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/gid"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// MaxUsageItems is the most items one recordUsages call takes.
const MaxUsageItems = 1000

// UsageInput is one use of a seat: the input of recordUsage, and an item
// of recordUsages. The grant is named by AssignmentID, or by LicenseID
// with PersonID or Email.
type UsageInput struct {
	AssignmentID *string
	LicenseID    *string
	PersonID     *string
	// Email names the grants of the person with this address
	// (case-insensitive) or, when no person has it, the pending invitation
	// to it: a person created with an invited address takes the
	// invitation over (seat rule 7), so one address is never both.
	Email  *string
	UsedAt *time.Time
}

// UsagesInput is the input of recordUsages.
type UsagesInput struct {
	Items []*UsageInput
}

// UsageResult is what became of one item of recordUsages.
type UsageResult struct {
	Index int
	// AssignmentIDs are the live grants the item named (a license and a
	// person may name their direct grant and inherited ones).
	AssignmentIDs []uuid.UUID
	// Updated is how many of them moved lastUsedAt to this item's time.
	Updated int
	// Problems are why the item was not applied (nil when it was).
	Problems problem.List
}

// RecordUsage moves lastUsedAt forward, in one statement, with no history
// row: it is telemetry, not an edit of the grant, so it leaves updatedAt
// (and so expectedUpdatedAt checks) alone. It returns how many live
// assignments moved. It is recordUsages with one item.
func RecordUsage(ctx context.Context, db *store.DB, actor Actor, in UsageInput) (int, error) {
	res, err := recordUsages(ctx, db, actor, []*UsageInput{&in}, func(int) string { return "input." })
	if err != nil {
		return 0, err
	}
	if err := res[0].Problems.Err(); err != nil {
		return 0, err
	}
	return res[0].Updated, nil
}

// RecordUsages applies up to MaxUsageItems usage records in one statement
// (no transaction around it): each as RecordUsage would, except that a
// bad item (malformed, or naming no live grant of the caller) gets its
// own problems in its result and the others are applied. Several items
// naming one grant collapse to the latest time. More than MaxUsageItems
// items is a problem of the call: nothing is written.
func RecordUsages(ctx context.Context, db *store.DB, actor Actor, in UsagesInput) ([]UsageResult, error) {
	if len(in.Items) > MaxUsageItems {
		return nil, problem.New(problem.Invalid, "input.items", "at most %d items per call (got %d): split them into several calls",
			MaxUsageItems, len(in.Items))
	}
	return recordUsages(ctx, db, actor, in.Items, func(i int) string { return "input.items[" + strconv.Itoa(i) + "]." })
}

// usageBy is how an item names its grants; each way is one branch of the
// statement, sent only when some item needs it.
type usageBy int

const (
	byAssignment usageBy = iota // assignmentId
	byPerson                    // licenseId and personId
	byEmail                     // licenseId and email
	usageWays
)

// usageArrays are the items named one way.
type usageArrays struct {
	index  []int
	key    []string // the assignment's or the license's id
	second []string // the person's id or the email; none by assignment
	usedAt []*time.Time
}

func (u *usageArrays) add(i int, key, second string, usedAt *time.Time) {
	u.index = append(u.index, i)
	u.key = append(u.key, key)
	if second != "" {
		u.second = append(u.second, second)
	}
	u.usedAt = append(u.usedAt, usedAt)
}

// params are the items as the statement's parameters: one value per
// column. Several items are arrays (PostgreSQL array literals, one
// parameter each however many items, so a batch of any size is one
// prepared statement; PostgreSQL plans it for its size on each call).
// One item is plain values: a statement PostgreSQL plans once and reuses
// (with arrays it would plan each call anew: 3× the time of the whole
// single-row update).
func (u *usageArrays) params(q *bun.SelectQuery, second string) *bun.SelectQuery {
	if len(u.index) == 1 {
		var at any
		if u.usedAt[0] != nil {
			at = u.usedAt[0].UTC()
		}
		expr, args := "?::int AS i, ?::uuid AS key, ?::timestamptz AS used_at", []any{strconv.Itoa(u.index[0]), u.key[0], at}
		if second != "" {
			expr += fmt.Sprintf(", ?::%s AS second", second)
			args = append(args, u.second[0])
		}
		return q.ColumnExpr(expr, args...)
	}
	index, at := make([]string, len(u.index)), make([]string, len(u.index))
	for k, i := range u.index {
		index[k] = strconv.Itoa(i)
		at[k] = "NULL" // the database's clock, in the statement
		if t := u.usedAt[k]; t != nil {
			at[k] = t.UTC().Format("2006-01-02T15:04:05.999999Z07:00")
		}
	}
	args := []any{arrayLiteral(index), arrayLiteral(u.key), arrayLiteral(at)}
	if second == "" {
		return q.TableExpr("unnest(?::int[], ?::uuid[], ?::timestamptz[]) AS item(i, key, used_at)", args...).ColumnExpr("item.*")
	}
	quoted := make([]string, len(u.second))
	for k, v := range u.second {
		quoted[k] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
	}
	return q.TableExpr(fmt.Sprintf("unnest(?::int[], ?::uuid[], ?::timestamptz[], ?::%s[]) AS item(i, key, used_at, second)", second),
		append(args, arrayLiteral(quoted))...).ColumnExpr("item.*")
}

// arrayLiteral writes elems (quoted where they need it) as a PostgreSQL
// array literal.
func arrayLiteral(elems []string) string {
	return "{" + strings.Join(elems, ",") + "}"
}

// earliestUse is the earliest usedAt taken: year 1, UTC (a DateTime may
// be year 0, which PostgreSQL's timestamps do not write as text).
var earliestUse = time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC)

// usageRow is one grant an item named.
type usageRow struct {
	I     int       `bun:"i"`
	ID    uuid.UUID `bun:"id"`
	Moved bool      `bun:"moved"`
}

// checkUsage validates item i and, when it is valid, files it under the
// way it names its grants; it returns the item's problems.
func checkUsage(in *UsageInput, i int, prefix string, now time.Time, ways *[usageWays]usageArrays) problem.List {
	c := problem.Check{Prefix: prefix}
	switch {
	case in.UsedAt == nil:
	case in.UsedAt.After(now.Add(time.Minute)):
		c.Add(problem.Invalid, "usedAt", "must not be in the future")
	case in.UsedAt.Before(earliestUse):
		// The statement writes it as text, which PostgreSQL reads only
		// from year 1 (UTC): earlier would fail the whole batch.
		c.Add(problem.Invalid, "usedAt", "must not be before %s", earliestUse.Format(time.RFC3339))
	}
	switch {
	case in.AssignmentID != nil && in.LicenseID == nil && in.PersonID == nil && in.Email == nil:
		id := c.ID(gid.Assignment, "assignmentId", *in.AssignmentID)
		if c.Err() == nil {
			ways[byAssignment].add(i, id.String(), "", in.UsedAt)
		}
	case in.AssignmentID == nil && in.LicenseID != nil && in.PersonID != nil && in.Email == nil:
		lic := c.ID(gid.License, "licenseId", *in.LicenseID)
		per := c.ID(gid.Person, "personId", *in.PersonID)
		if c.Err() == nil {
			ways[byPerson].add(i, lic.String(), per.String(), in.UsedAt)
		}
	case in.AssignmentID == nil && in.LicenseID != nil && in.PersonID == nil && in.Email != nil:
		lic := c.ID(gid.License, "licenseId", *in.LicenseID)
		c.Email("email", in.Email)
		if c.Err() == nil {
			ways[byEmail].add(i, lic.String(), *in.Email, in.UsedAt)
		}
	default:
		c.Add(problem.Invalid, "assignmentId", "give assignmentId, or licenseId with personId or email")
	}
	return c.Problems
}

// recordUsages validates the items, applies the valid ones in one
// statement and answers per item; prefix(i) is item i's field path.
func recordUsages(ctx context.Context, db *store.DB, actor Actor, items []*UsageInput,
	prefix func(int) string) ([]UsageResult, error) {
	out := make([]UsageResult, len(items))
	var ways [usageWays]usageArrays
	now, valid := db.Now(), 0
	for i, in := range items {
		out[i] = UsageResult{Index: i, AssignmentIDs: []uuid.UUID{}}
		if in == nil {
			in = &UsageInput{}
		}
		if out[i].Problems = checkUsage(in, i, prefix(i), now, &ways); out[i].Problems == nil {
			valid++
		}
	}
	if valid == 0 {
		return out, nil
	}
	if w := &ways[byAssignment]; len(items) == 1 && len(w.index) == 1 {
		return out, recordOne(ctx, db, actor, w, &out[0], prefix(0))
	}
	var rows []usageRow
	// One statement, one round trip: no transaction around it.
	err := db.WriteStatement(ctx, actor.Tenant, func(s store.Scope) error {
		rows = rows[:0]
		return usageStatement(s, &ways).Scan(ctx, &rows)
	})
	if err != nil {
		return nil, err
	}
	// A grant moved once is credited to one item: the first of those
	// naming it at its latest time (several may, all flagged moved).
	mover := map[uuid.UUID]int{}
	for _, r := range rows {
		res := &out[r.I]
		res.AssignmentIDs = append(res.AssignmentIDs, r.ID)
		if k, ok := mover[r.ID]; r.Moved && (!ok || r.I < k) {
			mover[r.ID] = r.I
		}
	}
	for _, i := range mover {
		out[i].Updated++
	}
	for i := range out {
		if out[i].Problems == nil && len(out[i].AssignmentIDs) == 0 {
			out[i].Problems = noGrant(prefix(i))
		}
	}
	return out, nil
}

// usageStatement is the one statement of a batch: the items as arrays
// (one parameter each, however many items, so a batch of any size is the
// same prepared statement), the live grants they name (the caller's
// tenant and app only), the latest time per grant, the update of those
// still behind it, and a row per item and grant:
//
//	WITH by_assignment AS (SELECT * FROM unnest($1::int[], $2::uuid[], $3::timestamptz[])), …,
//	     target AS (SELECT item.i, a.id, coalesce(item.used_at, now()) FROM by_assignment JOIN assignments … UNION ALL …),
//	     latest AS (SELECT id, max(used_at) FROM target GROUP BY id),
//	     locked AS (SELECT a.id, latest.used_at FROM assignments a JOIN latest … WHERE … ORDER BY a.id FOR NO KEY UPDATE OF a),
//	     moved AS (UPDATE assignments … FROM locked WHERE … last_used_at < locked.used_at RETURNING id)
//	SELECT target.i, target.id, moved AND target.used_at = latest.used_at FROM target …
//
// Every table it reads or writes is filtered by the tenant: one shard on
// Citus. The grants to move are locked in id order (locked, SELECT …
// ORDER BY id FOR NO KEY UPDATE) before the update, so two batches naming
// the same grants in any order do not deadlock; should one still (with a
// transaction locking grants in another order), WriteStatement runs the
// statement again.
func usageStatement(s store.Scope, ways *[usageWays]usageArrays) *bun.SelectQuery {
	q := s.Compose()
	var target *bun.SelectQuery
	union := func(b *bun.SelectQuery) {
		b = b.ColumnExpr("item.i, a.id, coalesce(item.used_at, now()) AS used_at").Where(liveSQL)
		if target == nil {
			target = b
		} else {
			target = target.UnionAll(b)
		}
	}
	// The items named one way: i, key, used_at (and second).
	items := func(name, second string, w *usageArrays) {
		q = q.With(name, w.params(s.Compose(), second))
	}
	assignments := func() *bun.SelectQuery { return s.Select((*models.Assignment)(nil)) }
	if w := &ways[byAssignment]; len(w.index) > 0 {
		items("by_assignment", "", w)
		union(assignments().Join("JOIN by_assignment AS item ON item.key = a.id"))
	}
	if w := &ways[byPerson]; len(w.index) > 0 {
		items("by_person", "uuid", w)
		union(assignments().Join("JOIN by_person AS item ON item.key = a.license_id AND item.second = a.person_id"))
	}
	if w := &ways[byEmail]; len(w.index) > 0 {
		items("by_email", "text", w)
		// The person with the address (one: emails are unique among
		// people not deleted), among those the caller may see; by the
		// normalised column, which an index serves under row-level
		// security (migration 20261130000500), lower(email) none.
		people := s.Select((*models.Person)(nil)).ColumnExpr("item.i, item.key, p.id AS person_id, item.used_at").
			Join("JOIN by_email AS item ON p.email_normalized = lower(item.second)").Where("NOT p.is_deleted")
		q = q.With("by_email_person", people)
		union(assignments().Join("JOIN by_email_person AS item ON item.key = a.license_id AND item.person_id = a.person_id"))
		// Or the invitation to the address.
		union(assignments().Join("JOIN by_email AS item ON item.key = a.license_id AND a.email_normalized = lower(item.second)").
			Where("a.email IS NOT NULL"))
	}
	latest := s.Compose().TableExpr("target").ColumnExpr("target.id, max(target.used_at) AS used_at").
		GroupExpr("target.id")
	// The grants to move, locked in id order first: the update's own
	// order is its plan's (a scan of the table for a large batch, id
	// lookups for a small one), and two batches locking in two orders
	// deadlocked.
	behind := behindSQL("latest.used_at")
	locked := s.Select((*models.Assignment)(nil)).ColumnExpr("a.id, latest.used_at").
		Join("JOIN latest ON latest.id = a.id").Where(behind).Where(liveSQL).
		OrderExpr("a.id").For("NO KEY UPDATE OF a")
	moved := s.Update((*models.Assignment)(nil)).Set("last_used_at = latest.used_at").TableExpr("locked AS latest").
		Where("a.id = latest.id").Where(behind).Where(liveSQL).
		Returning("a.id")
	return q.With("target", target).With("latest", latest).With("locked", locked).With("moved", moved).
		TableExpr("target").Join("JOIN latest ON latest.id = target.id").Join("LEFT JOIN moved ON moved.id = target.id").
		ColumnExpr("target.i, target.id, (moved.id IS NOT NULL AND target.used_at = latest.used_at) AS moved")
}

// recordOne is the call most agents make: one grant, named by its id. It
// is one plain update of that row (the batch statement's CTEs cost
// PostgreSQL about 240 µs of CPU per call under the bench's load, this
// update about 170 µs; bench/README.md, stop 22); only when it moved
// nothing does a second statement read whether the grant is live (its
// lastUsedAt was already as late) or not there. The grant's own row lock orders it
// against other writes, as in the batch statement.
func recordOne(ctx context.Context, db *store.DB, actor Actor, w *usageArrays, res *UsageResult, prefix string) error {
	// The time given, or the database's clock (as now() written out: Citus
	// refuses a stable function inside coalesce in an UPDATE).
	at, args := "now()", []any(nil)
	if w.usedAt[0] != nil {
		at, args = "?::timestamptz", []any{w.usedAt[0].UTC()}
	}
	id := w.key[0]
	var ids []uuid.UUID
	err := db.WriteStatement(ctx, actor.Tenant, func(s store.Scope) error {
		ids = ids[:0]
		return s.ScanIDs(ctx, s.UpdateOwn((*models.Assignment)(nil)).Set("last_used_at = "+at, args...).
			Where("a.id = ?::uuid", id).Where(liveSQL).
			Where(behindSQL(at), args...).
			Returning("a.id"), &ids)
	})
	if err != nil {
		return err
	}
	if len(ids) == 1 {
		res.AssignmentIDs, res.Updated = ids, 1
		return nil
	}
	err = db.Session(ctx, actor.Tenant).Read(ctx, func(s store.Scope) error {
		return s.Select((*models.Assignment)(nil)).Column("a.id").Where("a.id = ?::uuid", id).Where(liveSQL).Scan(ctx, &ids)
	})
	switch {
	case err != nil:
		return err
	case len(ids) == 0:
		res.Problems = noGrant(prefix)
	default:
		res.AssignmentIDs = ids
	}
	return nil
}

// noGrant is the problem of an item (whose fields are under prefix) that
// names no live grant of the caller.
func noGrant(prefix string) problem.List {
	return problem.List{problem.New(problem.NotFound, strings.TrimSuffix(prefix, "."), "no live assignment matches")}
}

// behindSQL says that grant a's last use is earlier than at (or none): a
// use at at moves it.
func behindSQL(at string) string {
	return "(a.last_used_at IS NULL OR a.last_used_at < " + at + ")"
}

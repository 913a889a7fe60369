package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"seatgraph/internal/gid"
)

// shape is one kind of request: the GraphQL the server gets, and the
// statements an ideal client would send for the same answer, issued
// directly through pgx (prepared, with placeholders) on the same database.
type shape struct {
	Name  string
	About string
	Write bool
	// PerRequest is how many records one request carries (a batch's
	// items; 0: one).
	PerRequest int
	// Query is the GraphQL document; Vars picks the variables of the i-th
	// request.
	Query string
	Vars  func(i int) map[string]any
	// Direct runs the i-th request's statements through pgx; it reports
	// how many statements it sent.
	Direct func(ctx context.Context, db *pgxpool.Pool, i int) (int, error)
	// Small is the variables for the 10k tenant (nil: not compared).
	Small func(i int) map[string]any
	// NewPhase, when set, runs before each measured phase.
	NewPhase func() error
}

// ids are the records the shapes ask for, read once from the dataset.
type ids struct {
	licenses   []uuid.UUID // by name
	big        uuid.UUID   // the license with the most grants
	people     []uuid.UUID // by id
	usage      []uuid.UUID // live direct grants, for recordUsage
	usages     []uuid.UUID // live person grants in license order, for recordUsages
	unusedDays time.Time   // D's lastUsedBefore
}

func loadIDs(ctx context.Context, db *pgxpool.Pool, withUsage bool) (*ids, error) {
	out := &ids{unusedDays: time.Now().Add(-30 * 24 * time.Hour).UTC().Truncate(time.Second)}
	rows, _ := db.Query(ctx, "SELECT id FROM licenses WHERE NOT is_deleted AND name LIKE 'License %' ORDER BY name")
	var err error
	if out.licenses, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil {
		return nil, err
	}
	if err := db.QueryRow(ctx, `SELECT id FROM licenses WHERE name LIKE 'License %' ORDER BY seats_used DESC, id LIMIT 1`).Scan(&out.big); err != nil {
		return nil, err
	}
	rows, _ = db.Query(ctx, "SELECT id FROM people ORDER BY id")
	if out.people, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil {
		return nil, err
	}
	if withUsage {
		rows, _ = db.Query(ctx, `SELECT id FROM assignments WHERE license_id = $1 AND person_id IS NOT NULL
			AND revoked_at IS NULL AND expired_at IS NULL AND NOT is_deleted ORDER BY id LIMIT 5000`, out.licenses[1])
		if out.usage, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil {
			return nil, err
		}
		// Live person grants in license order: a batch is mostly one
		// license's users (as an agent of one product reports them). Not
		// D's license: a use now moves a grant out of D's lastUsedBefore,
		// and the bench database is reused, so each run's usage writes
		// changed what the next run's D read (its rows further along the
		// index, up to none at all).
		rows, _ = db.Query(ctx, `SELECT id FROM assignments WHERE person_id IS NOT NULL AND license_id <> $2
			AND revoked_at IS NULL AND expired_at IS NULL AND NOT is_deleted ORDER BY license_id, id LIMIT $1`, usagePool, out.big)
		if out.usages, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// The SQL an ideal client sends; the same rows the server reads.
const (
	sqlAssignmentCols = `a.*, l.name AS license_name, l.program_key, l.expires_at AS license_expires_at`
	sqlAssignmentFrom = `assignments AS a JOIN licenses AS l ON l.tenant_id = a.tenant_id AND l.id = a.license_id`
	sqlStatus         = `CASE WHEN a.revoked_at IS NOT NULL OR a.is_deleted THEN 'REVOKED'
		WHEN a.expired_at IS NOT NULL OR a.expires_at <= now() OR l.expires_at <= now() THEN 'EXPIRED'
		WHEN a.waitlisted_at IS NOT NULL THEN 'WAITLISTED' WHEN NOT a.active THEN 'SUSPENDED'
		WHEN NOT a.fulfilled THEN 'PENDING' ELSE 'ACTIVE' END`
)

// drain reads every row of a query (decoding each value, as a server
// must) and returns the values of the columns named in cols.
func drain(rows pgx.Rows, cols ...string) ([][]any, error) {
	defer rows.Close()
	idx := make([]int, len(cols))
	for i, c := range cols {
		idx[i] = -1
		for j, fd := range rows.FieldDescriptions() {
			if fd.Name == c {
				idx[i] = j
			}
		}
	}
	var out [][]any
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			return nil, err
		}
		pick := make([]any, len(cols))
		for i, j := range idx {
			if j >= 0 {
				pick[i] = v[j]
			}
		}
		out = append(out, pick)
	}
	return out, rows.Err()
}

// uuidsOf collects the non-null uuids among values.
func uuidsOf(rows [][]any, cols ...int) [][16]byte {
	seen := map[[16]byte]bool{}
	var out [][16]byte
	for _, r := range rows {
		for _, c := range cols {
			if u, ok := r[c].([16]byte); ok && !seen[u] {
				seen[u] = true
				out = append(out, u)
			}
		}
	}
	return out
}

func shapes(tenant string, d, small *ids, writeLicense func(phase string) (uuid.UUID, error)) []shape {
	lic := func(x *ids, i int) string { return gid.License.Format(x.licenses[i%min(100, len(x.licenses))]) }
	person := func(x *ids, i int) string { return gid.Person.Format(x.people[(i*7919)%len(x.people)]) }
	out := []shape{
		{
			Name: "A", About: "licenses(first:20){ totalCount nodes{ name vendor seats{ used total } } }",
			Query: `{ licenses(first: 20) { totalCount nodes { name vendor seats { used total } } } }`,
			Vars:  func(int) map[string]any { return nil },
			Small: func(int) map[string]any { return nil },
			Direct: func(ctx context.Context, db *pgxpool.Pool, _ int) (int, error) {
				rows, _ := db.Query(ctx, `SELECT l.* FROM licenses AS l WHERE l.tenant_id = $1 AND NOT l.is_deleted ORDER BY l.name, l.id LIMIT 21`, tenant)
				if _, err := drain(rows); err != nil {
					return 1, err
				}
				var n int
				return 2, db.QueryRow(ctx, `SELECT count(*) FROM licenses AS l WHERE l.tenant_id = $1 AND NOT l.is_deleted`, tenant).Scan(&n)
			},
		},
		{
			Name: "B", About: "license(id){ assignments(first:50){ nodes{ status assignee{…} assignedBy{email} } } }",
			Query: `query($id: ID!) { license(id: $id) { assignments(first: 50) { nodes { status
				assignee { ... on Person { email } ... on Group { name } } assignedBy { email } } } } }`,
			Vars:  func(i int) map[string]any { return map[string]any{"id": lic(d, i)} },
			Small: func(i int) map[string]any { return map[string]any{"id": lic(small, i)} },
			Direct: func(ctx context.Context, db *pgxpool.Pool, i int) (int, error) {
				id := d.licenses[i%min(100, len(d.licenses))]
				rows, _ := db.Query(ctx, `SELECT l.* FROM licenses AS l WHERE l.tenant_id = $1 AND l.id = $2`, tenant, id)
				if _, err := drain(rows); err != nil {
					return 1, err
				}
				rows, _ = db.Query(ctx, `SELECT `+sqlAssignmentCols+`, `+sqlStatus+` AS status FROM `+sqlAssignmentFrom+`
					WHERE a.tenant_id = $1 AND a.license_id = $2 AND NOT a.is_deleted ORDER BY a.created_at, a.id LIMIT 51`, tenant, id)
				as, err := drain(rows, "person_id", "assigned_by_person_id", "group_id")
				if err != nil {
					return 2, err
				}
				rows, _ = db.Query(ctx, `SELECT p.* FROM people AS p WHERE p.tenant_id = $1 AND p.id = ANY($2)`, tenant, uuidsOf(as, 0, 1))
				if _, err := drain(rows); err != nil {
					return 3, err
				}
				groups := uuidsOf(as, 2)
				if len(groups) == 0 {
					return 3, nil
				}
				rows, _ = db.Query(ctx, `SELECT g.* FROM groups AS g WHERE g.tenant_id = $1 AND g.id = ANY($2)`, tenant, groups)
				_, err = drain(rows)
				return 4, err
			},
		},
		{
			Name: "C", About: "person(id){ assignments(first:50){ nodes{ license{ name } } } groups(first:20){ nodes{ name } } }",
			Query: `query($id: ID!) { person(id: $id) { assignments(first: 50) { nodes { license { name } } }
				groups(first: 20) { nodes { name } } } }`,
			Vars:  func(i int) map[string]any { return map[string]any{"id": person(d, i)} },
			Small: func(i int) map[string]any { return map[string]any{"id": person(small, i)} },
			Direct: func(ctx context.Context, db *pgxpool.Pool, i int) (int, error) {
				id := d.people[(i*7919)%len(d.people)]
				rows, _ := db.Query(ctx, `SELECT p.* FROM people AS p WHERE p.tenant_id = $1 AND p.id = $2`, tenant, id)
				if _, err := drain(rows); err != nil {
					return 1, err
				}
				rows, _ = db.Query(ctx, `SELECT `+sqlAssignmentCols+` FROM `+sqlAssignmentFrom+`
					WHERE a.tenant_id = $1 AND a.person_id = $2 AND NOT a.is_deleted ORDER BY a.created_at, a.id LIMIT 51`, tenant, id)
				as, err := drain(rows, "license_id")
				if err != nil {
					return 2, err
				}
				rows, _ = db.Query(ctx, `SELECT g.*, gm.person_id FROM group_members AS gm
					JOIN groups AS g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id
					WHERE gm.tenant_id = $1 AND gm.person_id = $2 AND NOT g.is_deleted ORDER BY g.name, g.id LIMIT 21`, tenant, id)
				if _, err := drain(rows); err != nil {
					return 3, err
				}
				rows, _ = db.Query(ctx, `SELECT l.* FROM licenses AS l WHERE l.tenant_id = $1 AND l.id = ANY($2)`, tenant, uuidsOf(as, 0))
				_, err = drain(rows)
				return 4, err
			},
		},
		{
			Name: "D", About: "assignments(licenseIds:[biggest], status:[ACTIVE], lastUsedBefore, orderBy LAST_USED, first:50)",
			Query: `query($id: ID!, $t: DateTime!) { assignments(first: 50, orderBy: {field: LAST_USED},
				filter: {licenseIds: [$id], status: [ACTIVE], lastUsedBefore: $t}) { nodes { id status lastUsedAt } } }`,
			Vars: func(int) map[string]any {
				return map[string]any{"id": gid.License.Format(d.big), "t": d.unusedDays.Format(time.RFC3339)}
			},
			Small: func(int) map[string]any {
				return map[string]any{"id": gid.License.Format(small.big), "t": small.unusedDays.Format(time.RFC3339)}
			},
			Direct: func(ctx context.Context, db *pgxpool.Pool, _ int) (int, error) {
				rows, _ := db.Query(ctx, `SELECT `+sqlAssignmentCols+` FROM `+sqlAssignmentFrom+`
					JOIN assignment_use AS lu ON lu.tenant_id = a.tenant_id AND lu.assignment_id = a.id
					WHERE a.tenant_id = $1 AND lu.license_id = $2 AND NOT a.is_deleted AND (`+sqlStatus+`) = 'ACTIVE'
					  AND lu.last_used < $3
					ORDER BY lu.last_used, lu.assignment_id LIMIT 51`, tenant, d.big, d.unusedDays)
				_, err := drain(rows)
				return 1, err
			},
		},
	}
	if len(d.usage) > 0 {
		out = append(out, shape{
			Name: "recordUsage", About: "recordUsage(input:{assignmentId}) vs one UPDATE", Write: true,
			Query: `mutation($id: ID!) { recordUsage(input: {assignmentId: $id}) { updated userErrors { code message } } }`,
			Vars: func(i int) map[string]any {
				return map[string]any{"id": gid.Assignment.Format(d.usage[i%len(d.usage)])}
			},
			Direct: func(ctx context.Context, db *pgxpool.Pool, i int) (int, error) {
				_, err := db.Exec(ctx, `UPDATE assignments SET last_used_at = now()
					WHERE tenant_id = $1 AND id = $2 AND (last_used_at IS NULL OR last_used_at < now())`, tenant, d.usage[i%len(d.usage)])
				return 1, err
			},
		})
	}
	if len(d.usages) >= 4*usageBatch {
		spread := slices.Clone(d.usages)
		rand.New(rand.NewPCG(1, 2)).Shuffle(len(spread), func(i, j int) { spread[i], spread[j] = spread[j], spread[i] })
		out = append(out, usagesShape("recordUsages", "grants in license order (mostly one license's users)", tenant, d.usages),
			usagesShape("recordUsagesSpread", "grants spread at random over the tenant", tenant, spread))
	}
	if writeLicense != nil {
		// Each phase assigns people not yet holding the license: one new
		// grant per request, on one unlimited license per phase.
		var next atomic.Int64
		var serverLicense, directLicense uuid.UUID
		person := func() uuid.UUID { return d.people[int(next.Add(1))%len(d.people)] }
		out = append(out, shape{
			Name: "assignLicense", About: "assignLicense on one unlimited license, a new person each time", Write: true,
			Query: `mutation($l: ID!, $p: ID!) { assignLicense(input: {licenseId: $l, personId: $p}) { created userErrors { code message } } }`,
			NewPhase: func() (err error) {
				if serverLicense, err = writeLicense("server"); err != nil {
					return err
				}
				directLicense, err = writeLicense("direct")
				return err
			},
			Vars: func(int) map[string]any {
				return map[string]any{"l": gid.License.Format(serverLicense), "p": gid.Person.Format(person())}
			},
			Direct: func(ctx context.Context, db *pgxpool.Pool, i int) (int, error) {
				id, p := uuid.Must(uuid.NewV7()), person()
				n := 0
				err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
					n = 4
					if _, err := tx.Exec(ctx, `INSERT INTO assignments (tenant_id, id, license_id, person_id, assigned_by, created_by, updated_by)
						VALUES ($1, $2, $3, $4, 'bench', 'bench', 'bench')`, tenant, id, directLicense, p); err != nil {
						return err
					}
					_, err := tx.Exec(ctx, `INSERT INTO assignment_events (tenant_id, id, assignment_id, type, actor)
						VALUES ($1, $2, $3, 'ASSIGNED', 'bench')`, tenant, uuid.Must(uuid.NewV7()), id)
					return err
				})
				return n, err
			},
		})
	}
	return out
}

// newWriteLicense makes an unlimited license for one write phase.
func newWriteLicense(ctx context.Context, db *pgxpool.Pool, tenant string) func(string) (uuid.UUID, error) {
	return func(phase string) (uuid.UUID, error) {
		id := uuid.Must(uuid.NewV7())
		_, err := db.Exec(ctx, `INSERT INTO licenses (tenant_id, id, name, created_by, updated_by) VALUES ($1, $2, $3, 'bench', 'bench')`,
			tenant, id, fmt.Sprintf("bench-write %s %s", phase, time.Now().Format(time.RFC3339Nano)))
		return id, err
	}
}

// writeCountersSQL are the write licenses whose seat counters differ from
// a recount of their holders (seat_adjust keeps them).
const writeCountersSQL = `SELECT l.name, l.seats_used, l.seats_pending, h.used, h.pending FROM licenses AS l
	CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE s.grants > 0) AS used,
	  count(*) FILTER (WHERE s.grants > 0 AND s.fulfilled_grants = 0) AS pending
	  FROM seat_holders AS s WHERE s.tenant_id = l.tenant_id AND s.license_id = l.id) AS h
	WHERE l.tenant_id = $1 AND l.name LIKE 'bench-write %' AND (l.seats_used, l.seats_pending) <> (h.used, h.pending)`

// checkWriteCounters fails when a write phase left a license's seat
// counters apart from its holders: the seat trigger must keep them in
// step under any concurrency.
func checkWriteCounters(ctx context.Context, db *pgxpool.Pool, tenant string) error {
	rows, _ := db.Query(ctx, writeCountersSQL, tenant)
	var off []string
	var name string
	var used, pending, holders, unfulfilled int64
	_, err := pgx.ForEachRow(rows, []any{&name, &used, &pending, &holders, &unfulfilled}, func() error {
		off = append(off, fmt.Sprintf("%s: seats_used %d, seats_pending %d; holders %d, unfulfilled %d", name, used, pending, holders, unfulfilled))
		return nil
	})
	if err != nil {
		return err
	}
	if len(off) > 0 {
		return fmt.Errorf("seat counters apart from their holders after the write phases:\n%s", strings.Join(off, "\n"))
	}
	return nil
}

// dropWriteLicenses removes what earlier runs' write phases made. Seat
// counters an earlier run reported apart (checkWriteCounters) are set to
// the recount first, so that removing the grants does not take them
// below zero.
func dropWriteLicenses(ctx context.Context, db *pgxpool.Pool, tenant string) error {
	for _, q := range []string{
		`UPDATE licenses AS l SET seats_used = h.used, seats_pending = h.pending FROM (` + writeCountersSQL + `) AS h(name, u, p, used, pending)
		   WHERE l.tenant_id = $1 AND l.name = h.name`,
		`DELETE FROM assignment_events WHERE tenant_id = $1 AND assignment_id IN (SELECT a.id FROM assignments AS a
		   JOIN licenses AS l ON l.tenant_id = a.tenant_id AND l.id = a.license_id WHERE a.tenant_id = $1 AND l.name LIKE 'bench-write %')`,
		`DELETE FROM assignments WHERE tenant_id = $1 AND license_id IN (SELECT id FROM licenses WHERE tenant_id = $1 AND name LIKE 'bench-write %')`,
		`DELETE FROM seat_holders WHERE tenant_id = $1 AND license_id IN (SELECT id FROM licenses WHERE tenant_id = $1 AND name LIKE 'bench-write %')`,
		`DELETE FROM licenses WHERE tenant_id = $1 AND name LIKE 'bench-write %'`,
	} {
		if _, err := db.Exec(ctx, q, tenant); err != nil {
			return err
		}
	}
	return nil
}

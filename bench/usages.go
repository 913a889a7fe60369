package main

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"seatgraph/internal/gid"
)

const (
	usageBatch = 1000    // items per recordUsages request
	usagePool  = 400_000 // grants the batches cycle through
)

// sqlUsages is the statement the server sends for a batch named by
// assignment ids (licensing.usageStatement), with pgx's arrays as its
// parameters: the direct side of recordUsages.
const sqlUsages = `WITH by_assignment AS (SELECT item.* FROM unnest($2::int[], $3::uuid[], $4::timestamptz[]) AS item(i, key, used_at)),
	target AS (SELECT item.i, a.id, coalesce(item.used_at, now()) AS used_at FROM assignments AS a JOIN by_assignment AS item ON item.key = a.id
		WHERE a.tenant_id = $1 AND NOT a.is_deleted AND a.revoked_at IS NULL AND a.expired_at IS NULL),
	latest AS (SELECT target.id, max(target.used_at) AS used_at FROM target GROUP BY target.id ORDER BY target.id),
	moved AS (UPDATE assignments AS a SET last_used_at = latest.used_at FROM latest
		WHERE a.tenant_id = $1 AND a.id = latest.id AND (a.last_used_at IS NULL OR a.last_used_at < latest.used_at)
		  AND NOT a.is_deleted AND a.revoked_at IS NULL AND a.expired_at IS NULL RETURNING a.id)
	SELECT target.i, target.id, (moved.id IS NOT NULL AND target.used_at = latest.used_at) AS moved
	FROM target JOIN latest ON latest.id = target.id LEFT JOIN moved ON moved.id = target.id`

// usagesShape is recordUsages with batches of usageBatch grants by id,
// each used now. The server's batches come from the first half of pool,
// direct SQL's from the second (so neither finds the other's pages in the
// cache); request i takes the i-th batch of its half.
func usagesShape(name, about, tenant string, pool []uuid.UUID) shape {
	half := len(pool) / 2
	batch := func(i int, side int) []uuid.UUID {
		start := side*half + (i*usageBatch)%(half-usageBatch+1)
		return pool[start : start+usageBatch]
	}
	return shape{
		Name: name, Write: true, PerRequest: usageBatch,
		About: fmt.Sprintf("recordUsages(input:{items: %d × {assignmentId}}), %s, vs the same statement through pgx", usageBatch, about),
		Query: `mutation($items: [RecordUsageInput!]!) { recordUsages(input: {items: $items}) {
			updated failed results { index updated error { code field } } userErrors { code message } } }`,
		Vars: func(i int) map[string]any {
			items := make([]map[string]any, usageBatch)
			for k, id := range batch(i, 0) {
				items[k] = map[string]any{"assignmentId": gid.Assignment.Format(id)}
			}
			return map[string]any{"items": items}
		},
		Direct: func(ctx context.Context, db *pgxpool.Pool, i int) (int, error) {
			ids := batch(i, 1)
			index := make([]int32, len(ids))
			for k := range index {
				index[k] = int32(k)
			}
			rows, _ := db.Query(ctx, sqlUsages, tenant, index, ids, make([]*time.Time, len(ids)))
			got, err := drain(rows, "moved")
			if err == nil && len(got) != len(ids) {
				err = fmt.Errorf("recordUsages direct: %d rows for %d items", len(got), len(ids))
			}
			return 1, err
		},
	}
}

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// floorResult is what a request costs with nothing to read, at the fixed
// rate: the least each side of a shape's p50 ratio can be. A shape's
// server p50 is about graphql's plus its statements' time; its direct
// p50 about sql's times its statements.
type floorResult struct {
	// HTTP is a round trip to a net/http handler that reads the body and
	// answers a constant, through the load generator's client.
	HTTP phase `json:"http"`
	// GraphQL is { __typename } through the server's handler: no
	// statement, everything else a request goes through (request log,
	// credentials, the GraphQL document, the answer).
	GraphQL phase `json:"graphql"`
	// SQL is SELECT 1 through the direct side's pool.
	SQL phase `json:"sql"`
}

// floor measures the three at rate per second each for d, their requests
// a third of an interval apart (as fixedRates spreads a shape's two
// sides).
func floor(ctx context.Context, rate float64, d time.Duration, server *client, direct *pgxpool.Pool) (*floorResult, error) {
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":{"__typename":"Query"}}`)
	}))
	defer bare.Close()
	bareClient := newClient(bare.URL, server.token)
	calls := []call{
		func(ctx context.Context, _ int) error { return bareClient.post(ctx, `{ __typename }`, nil) },
		func(ctx context.Context, _ int) error { return server.post(ctx, `{ __typename }`, nil) },
		func(ctx context.Context, _ int) error { _, err := direct.Exec(ctx, `SELECT 1`); return err },
	}
	for _, c := range calls { // warm: connections made, the document parsed once
		for i := range 20 {
			if err := c(ctx, i); err != nil {
				return nil, fmt.Errorf("floor: %w", err)
			}
		}
	}
	third := time.Duration(float64(time.Second) / rate / 3)
	runs := make([]run, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Go(func() { runs[i] = fixedRate(ctx, rate, d, time.Duration(i)*third, c) })
	}
	wg.Wait()
	return &floorResult{HTTP: rec(runs[0]), GraphQL: rec(runs[1]), SQL: rec(runs[2])}, nil
}

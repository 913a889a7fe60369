package main

import (
	"context"
	"errors"

	"seatgraph/internal/store"
)

func explainAll(ctx context.Context, url string, db *store.DB, u urls, tenant string) error {
	return errors.New("not yet")
}

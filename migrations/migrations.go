// Package migrations holds seatgraph's SQL migrations, embedded in the
// binary and applied in file-name order with bun/migrate.
package migrations

import (
	"context"
	"embed"
	"fmt"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

//go:embed *.sql
var files embed.FS

// Migrations is the set of all migrations, ready for a migrate.Migrator.
var Migrations = migrate.NewMigrations()

func init() {
	if err := Migrations.Discover(files); err != nil {
		panic(err)
	}
}

// Apply applies every pending migration under bun/migrate's lock and
// returns the group applied (zero when the database was current). db must
// connect as the schema's owner.
func Apply(ctx context.Context, db *bun.DB) (*migrate.MigrationGroup, error) {
	m := migrate.NewMigrator(db, Migrations)
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if err := m.Lock(ctx); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer func() { _ = m.Unlock(ctx) }()
	group, err := m.Migrate(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return group, nil
}

// Rollback undoes the last applied migration group and returns it (zero
// when nothing was applied). db must connect as the schema's owner.
func Rollback(ctx context.Context, db *bun.DB) (*migrate.MigrationGroup, error) {
	m := migrate.NewMigrator(db, Migrations)
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if err := m.Lock(ctx); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer func() { _ = m.Unlock(ctx) }()
	group, err := m.Rollback(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate down: %w", err)
	}
	return group, nil
}

// Status lists every migration this binary knows, each with the group it
// was applied in (zero when pending).
func Status(ctx context.Context, db *bun.DB) (migrate.MigrationSlice, error) {
	m := migrate.NewMigrator(db, Migrations)
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	ms, err := m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate status: %w", err)
	}
	return ms, nil
}

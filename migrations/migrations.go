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
	var group *migrate.MigrationGroup
	err := locked(ctx, db, func(m *migrate.Migrator) (err error) {
		group, err = m.Migrate(ctx)
		return err
	})
	return group, err
}

// Rollback undoes the last applied migration group, under bun/migrate's
// lock, and returns it (zero when nothing was applied). confirm is shown
// the group first; when it returns an error nothing is undone. db must
// connect as the schema's owner.
func Rollback(ctx context.Context, db *bun.DB, confirm func(*migrate.MigrationGroup) error) (*migrate.MigrationGroup, error) {
	var group *migrate.MigrationGroup
	err := locked(ctx, db, func(m *migrate.Migrator) error {
		ms, err := m.MigrationsWithStatus(ctx)
		if err != nil {
			return err
		}
		if last := ms.LastGroup(); last.IsZero() {
			group = last
			return nil
		} else if err := confirm(last); err != nil {
			return err
		}
		group, err = m.Rollback(ctx)
		return err
	})
	return group, err
}

// Status lists every migration this binary knows, each with the group it
// was applied in (zero when pending).
func Status(ctx context.Context, db *bun.DB) (migrate.MigrationSlice, error) {
	m, err := migrator(ctx, db)
	if err != nil {
		return nil, err
	}
	ms, err := m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return ms, nil
}

// migrator is a migrator over Migrations whose bookkeeping tables exist.
func migrator(ctx context.Context, db *bun.DB) (*migrate.Migrator, error) {
	m := migrate.NewMigrator(db, Migrations)
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return m, nil
}

// locked runs f with a migrator while holding bun/migrate's lock.
func locked(ctx context.Context, db *bun.DB, f func(*migrate.Migrator) error) error {
	m, err := migrator(ctx, db)
	if err != nil {
		return err
	}
	if err := m.Lock(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer func() { _ = m.Unlock(ctx) }()
	if err := f(m); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Package migrations holds seatgraph's SQL migrations, embedded in the
// binary and applied in file-name order with bun/migrate.
package migrations

import (
	"embed"

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

package migrations_test

import (
	"bufio"
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"seatgraph/internal/apitest"
)

// lastBeforeTheRule is the last migration that landed before the rule
// below: its up files (and those before it) were applied by deployments as
// they are and are never edited (20261130010000_reclaim landed with the
// rule's test still on a branch). Later migrations, and every down file
// (down files are recorded nowhere), follow the rule.
const lastBeforeTheRule = "20261130010000"

// TestOneStatementPerChunk holds the migrations to docs/scale-out.md's
// rule for Citus: a migration sends one statement at a time (statements
// apart with a --bun:split line). On Citus, some DDL on a distributed
// table (ALTER TABLE, CREATE INDEX, …) is passed on to the workers as the
// whole text it came in, and the workers refuse a text of several
// statements, so such a migration fails on a cluster it is applied to
// after distribute.sql. PostgreSQL itself counts the statements: it
// refuses to prepare a text of several (without running or planning it).
func TestOneStatementPerChunk(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, apitest.DB(t).OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	files, err := fs.Glob(os.DirFS("."), "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migration files: %v", err)
	}
	checked := 0
	for _, name := range files {
		if strings.Contains(name, ".up.") && name[:len(lastBeforeTheRule)] <= lastBeforeTheRule {
			continue
		}
		for i, chunk := range chunks(t, name) {
			_, err := conn.PgConn().Prepare(ctx, "", chunk, nil)
			var pg *pgconn.PgError
			if errors.As(err, &pg) && pg.Code == "42601" && strings.Contains(pg.Message, "multiple commands") {
				t.Errorf("%s, part %d holds several statements: put each on its own, apart with a line --bun:split\n%s",
					name, i+1, chunk)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no statement checked")
	}
}

// chunks splits a migration file as bun/migrate does: at --bun:split lines.
func chunks(t *testing.T, name string) []string {
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	var cur strings.Builder
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.TrimSpace(s.Text()) == "--bun:split" {
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(s.Text() + "\n")
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return append(out, cur.String())
}

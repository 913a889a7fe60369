package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"seatgraph/internal/apitest"
)

// TestMain gives the tests that need one a database of their own; the
// help tests need none.
func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

// run runs the command line with no configuration at all in the
// environment, so any command that tried to reach a database would fail.
func run(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	for _, name := range []string{"DATABASE_URL", "DATABASE_ADMIN_URL", "DEV_MODE", "JWT_SECRET", "JWT_JWKS_URL"} {
		t.Setenv(name, "")
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	var out bytes.Buffer
	err := commands(&out, &out).Run(context.Background(), helpArgs(append([]string{"seatgraph"}, args...)))
	return out.String(), err
}

// TestHelp: help on the root and on every command succeeds, prints its
// usage and runs nothing (serve, migrate and seed would fail here for want
// of DATABASE_URL).
func TestHelp(t *testing.T) {
	root := commands(nil, nil)
	cases := [][]string{{"help"}, {"--help"}, {"-h"}, {"help", "token"}}
	for _, c := range root.Commands {
		cases = append(cases, []string{c.Name, "--help"}, []string{c.Name, "-h"})
		for _, sub := range c.Commands {
			cases = append(cases, []string{c.Name, sub.Name, "--help"}, []string{c.Name, sub.Name, "-h"})
		}
	}
	for _, args := range cases {
		out, err := run(t, nil, args...)
		if err != nil {
			t.Errorf("seatgraph %s: %v", strings.Join(args, " "), err)
			continue
		}
		if !strings.Contains(out, "USAGE:") {
			t.Errorf("seatgraph %s printed no usage: %q", strings.Join(args, " "), out)
		}
	}
	// help names a command at any depth, as --help after it does.
	for _, args := range [][]string{{"help", "apikey", "create"}, {"help", "migrate", "down"}, {"help", "token"}} {
		want := "USAGE:\n   seatgraph " + strings.Join(args[1:], " ")
		if out, err := run(t, nil, args...); err != nil || !strings.Contains(out, want) {
			t.Errorf("seatgraph %s: %v, want %q in:\n%s", strings.Join(args, " "), err, want, out)
		}
	}
	out, _ := run(t, nil, "--help")
	for _, want := range []string{"serve", "migrate", "seed", "token", "apikey", "version"} {
		if !strings.Contains(out, "\n   "+want) {
			t.Errorf("root help does not list %s:\n%s", want, out)
		}
	}
	out, _ = run(t, nil, "migrate", "--help")
	for _, want := range []string{"up", "down", "status"} {
		if !strings.Contains(out, "\n   "+want) {
			t.Errorf("migrate help does not list %s:\n%s", want, out)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := run(t, nil, args...)
		if err != nil || !strings.HasPrefix(out, "seatgraph ") || !strings.Contains(out, "go1.") {
			t.Errorf("seatgraph %s: %q, %v", args[0], out, err)
		}
	}
}

// TestMistypedCommand: a word that is no command is refused; it does not
// fall through to serve (or to migrate up).
func TestMistypedCommand(t *testing.T) {
	for _, args := range [][]string{{"serv"}, {"migrate", "upp"}, {"serve", "now"}} {
		_, err := run(t, map[string]string{"DATABASE_URL": "postgres://127.0.0.1:1/none"}, args...)
		if err == nil || !strings.Contains(err.Error(), "unknown command") {
			t.Errorf("seatgraph %s: %v, want an unknown-command error", strings.Join(args, " "), err)
		}
	}
}

// TestToken: a development token needs an HS256 secret and known scopes.
func TestToken(t *testing.T) {
	_, err := run(t, map[string]string{"JWT_JWKS_URL": "https://idp.example/jwks.json"}, "token", "--tenant", "demo")
	if err == nil || !strings.Contains(err.Error(), "no HS256 secret") {
		t.Errorf("token with only a JWKS URL: %v, want a refusal", err)
	}
	// With nothing set, the token command's own reason, not the server's.
	_, err = run(t, nil, "token", "--tenant", "demo")
	if err == nil || !strings.Contains(err.Error(), "no HS256 secret") || strings.Contains(err.Error(), "JWT_JWKS_URL is required") {
		t.Errorf("token with no configuration: %v, want the token command's refusal", err)
	}
	_, err = run(t, map[string]string{"DEV_MODE": "true"}, "token", "--tenant", "demo", "--scopes", "licenses:read licences:write")
	if err == nil || !strings.Contains(err.Error(), `unknown scope "licences:write"`) {
		t.Errorf("token with an unknown scope: %v, want a refusal", err)
	}
	out, err := run(t, map[string]string{"DEV_MODE": "true"}, "token", "--tenant", "demo")
	if err != nil || strings.Count(out, ".") != 2 {
		t.Errorf("token under DEV_MODE: %q, %v", out, err)
	}
}

// TestMigrate: migrate status lists every migration as applied, down rolls
// the last group back (status says pending, the tables are gone), and
// migrate (up) applies it again.
func TestMigrate(t *testing.T) {
	db := apitest.DB(t)
	env := map[string]string{"DATABASE_ADMIN_URL": db.OwnerURL}
	status := func() string {
		t.Helper()
		out, err := run(t, env, "migrate", "status")
		if err != nil {
			t.Fatalf("migrate status: %v", err)
		}
		// The states start in one column.
		column := -1
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			at := strings.Index(line, "  applied")
			if at < 0 {
				at = strings.Index(line, "  pending")
			}
			if at < 0 || (column >= 0 && at != column) {
				t.Fatalf("migrate status is not in columns:\n%s", out)
			}
			column = at
		}
		return out
	}
	licenses := func() bool {
		var exists bool
		if err := db.SQL(t).QueryRow(`SELECT to_regclass('public.licenses') IS NOT NULL`).Scan(&exists); err != nil {
			t.Fatal(err)
		}
		return exists
	}
	if out := status(); strings.Count(out, "applied (group") < 3 || strings.Contains(out, "pending") {
		t.Fatalf("status of a migrated database:\n%s", out)
	}
	// Without --yes, down says what it would undo and undoes nothing.
	out, err := run(t, env, "migrate", "down")
	if err == nil || !strings.Contains(err.Error(), "--yes") || !strings.Contains(out, "20261123000001_domain") || !licenses() {
		t.Fatalf("migrate down without --yes: %v (licenses table there: %v), printed:\n%s", err, licenses(), out)
	}
	if out := status(); strings.Contains(out, "pending") {
		t.Fatalf("migrate down without --yes rolled back:\n%s", out)
	}
	if _, err := run(t, env, "migrate", "down", "--yes"); err != nil {
		t.Fatalf("migrate down --yes: %v", err)
	}
	if out := status(); strings.Contains(out, "applied") || strings.Count(out, "pending") < 3 || licenses() {
		t.Fatalf("after migrate down (licenses table still there: %v):\n%s", licenses(), out)
	}
	if _, err := run(t, env, "migrate"); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if out := status(); strings.Contains(out, "pending") || !licenses() {
		t.Fatalf("after migrate (up):\n%s", out)
	}
}

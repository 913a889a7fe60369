// Package scripts holds the tests of the shell scripts make runs: each
// runs a script as a user would, with fake programs where the real ones
// (a Homebrew PostgreSQL, apt-get) are not on this machine.
package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeBin makes a folder of shell scripts, one per name, each running body.
func fakeBin(t *testing.T, programs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range programs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// run runs a script of this folder with env added; it returns stdout,
// stderr and whether it succeeded.
func run(t *testing.T, env []string, script string, args ...string) (string, string, bool) {
	t.Helper()
	cmd := exec.Command("/bin/bash", append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatal(err)
	}
	return strings.TrimSpace(out.String()), errOut.String(), err == nil
}

// postgres is a fake PostgreSQL bin folder whose initdb --version says version.
func postgres(t *testing.T, version string) string {
	return fakeBin(t, map[string]string{"initdb": "echo '" + version + "'", "pg_ctl": "exit 0",
		"pg_isready": "exit 0", "psql": "exit 0"})
}

// TestDBFindsPostgreSQL: db.sh reads the major version from every form of
// initdb --version (Homebrew's adds a word after the number), and says
// which folders it could not use and why.
func TestDBFindsPostgreSQL(t *testing.T) {
	for _, version := range []string{"initdb (PostgreSQL) 16.4 (Homebrew)", "initdb (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)",
		"initdb (PostgreSQL) 17.2", "initdb (PostgreSQL) 18beta1"} {
		dir := postgres(t, version)
		out, stderr, ok := run(t, []string{"SEATGRAPH_PG_BINDIR=" + dir}, "db.sh", "bindir")
		if !ok || out != dir {
			t.Errorf("initdb says %q: db.sh bindir printed %q (ok %v), want %s; stderr:\n%s", version, out, ok, dir, stderr)
		}
	}

	unreadable := postgres(t, "initdb, some build of it")
	_, stderr, ok := run(t, []string{"SEATGRAPH_PG_BINDIR=" + unreadable}, "db.sh", "bindir")
	if ok || !strings.Contains(stderr, "version could not be read") || !strings.Contains(stderr, unreadable) {
		t.Errorf("a folder whose initdb gives no version: ok %v, stderr:\n%s", ok, stderr)
	}
	old := postgres(t, "initdb (PostgreSQL) 14.9 (Homebrew)")
	_, stderr, ok = run(t, []string{"SEATGRAPH_PG_BINDIR=" + old}, "db.sh", "bindir")
	if ok || !strings.Contains(stderr, "Too old: "+old+" (PostgreSQL 14)") {
		t.Errorf("PostgreSQL 14: ok %v, stderr:\n%s", ok, stderr)
	}
}

// TestChromiumInstall: with no browser on PATH, chromium.sh installs
// Debian's chromium with apt-get, waiting for another apt job's lock
// rather than failing on it, as root or through sudo -n; without either it
// says what to install.
func TestChromiumInstall(t *testing.T) {
	for _, c := range []struct {
		who, uid, sudo string
		want           string // the apt-get line, "" for none
	}{
		{"root", "0", "", "apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends chromium"},
		{"a user who may sudo", "1000", "ok", "sudo apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends chromium"},
		{"a user who may not sudo", "1000", "password", ""},
	} {
		t.Run(c.who, func(t *testing.T) {
			bin := t.TempDir()
			log := filepath.Join(t.TempDir(), "log")
			programs := map[string]string{
				"id": "echo " + c.uid,
				// apt-get notes its arguments; install leaves a chromium on PATH.
				"apt-get": `echo "$PREFIX""apt-get $*" >>` + log + `
case "$*" in *install*) printf '#!/bin/sh\n' >` + bin + `/chromium; /bin/chmod +x ` + bin + `/chromium;; esac`,
			}
			switch c.sudo {
			case "ok":
				programs["sudo"] = `[ "$1" = -n ] || exit 1; shift; PREFIX="sudo " "$@"`
			case "password":
				programs["sudo"] = `echo "sudo: a password is required" >&2; exit 1`
			}
			for name, body := range programs {
				if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			out, stderr, ok := run(t, []string{"PATH=" + bin, "CHROMIUM_BIN="}, "chromium.sh")
			apt, _ := os.ReadFile(log)
			if c.want == "" {
				if ok || len(apt) > 0 || !strings.Contains(stderr, "sudo apt-get install chromium") {
					t.Errorf("ok %v, apt-get ran %q; stderr:\n%s", ok, apt, stderr)
				}
				return
			}
			if !ok || out != filepath.Join(bin, "chromium") || !strings.Contains(string(apt), c.want) {
				t.Errorf("ok %v, printed %q, apt-get ran:\n%s\nwant %q; stderr:\n%s", ok, out, apt, c.want, stderr)
			}
		})
	}
}

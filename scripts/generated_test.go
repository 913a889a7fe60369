package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// copyInto copies the repository files rel (files or folders) into dir.
func copyInto(t *testing.T, dir string, rel ...string) {
	t.Helper()
	for _, r := range rel {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(r)), 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("cp", "-R", filepath.Join("..", r), filepath.Join(dir, r)).CombinedOutput(); err != nil {
			t.Fatalf("cp %s: %v: %s", r, err, out)
		}
	}
}

// TestCheckGeneratedFailsWhenAGeneratorFails: make check-generated (run
// by make test) fails when gqlgen or scripts/listitems fails, not only
// when their output differs from the committed code: a gqlgen that stops
// before writing (a schema it cannot read) leaves the committed files as
// they were, and must not pass for current. The repository's Makefile
// runs on a copy of the files it reads, with fake go, node and npm.
func TestCheckGeneratedFailsWhenAGeneratorFails(t *testing.T) {
	for _, c := range []struct {
		name, gqlgen, listitems string
		fails                   bool
	}{
		{"both succeed, nothing changes", "exit 0", "exit 0", false},
		{"gqlgen fails", `echo "gqlgen: failed to load schema" >&2; exit 1`, "exit 0", true},
		{"listitems fails", "exit 0", `echo "listitems: no call found" >&2; exit 1`, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			repo := t.TempDir()
			copyInto(t, repo, "Makefile", "scripts/playground.sh", "internal/playground/app/package-lock.json",
				"internal/playground/dist", "graph/generated.go", "graph/federation.go", "graph/model/models_gen.go")
			bin := fakeBin(t, map[string]string{
				// The playground's check builds into a folder and compares it
				// with dist: this node builds exactly dist.
				"node": `cp -R "$(dirname "$1")/../dist/." "$2"`,
				"npm":  `mkdir -p node_modules`,
				"go": `case "$*" in
"tool gqlgen generate") ` + c.gqlgen + `;;
"run ./scripts/listitems graph/generated.go") ` + c.listitems + `;;
*) echo "unexpected: go $*" >&2; exit 1;;
esac`,
			})
			cmd := exec.Command("make", "-C", repo, "check-generated")
			cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
			out, err := cmd.CombinedOutput()
			if _, exited := err.(*exec.ExitError); err != nil && !exited {
				t.Fatal(err)
			}
			if failed := err != nil; failed != c.fails {
				t.Errorf("make check-generated failed: %v, want %v; output:\n%s", failed, c.fails, out)
			}
			if c.fails && !strings.Contains(string(out), "failed") && !strings.Contains(string(out), "no call found") {
				t.Errorf("the failure does not say what failed:\n%s", out)
			}
		})
	}
}

// TestGoGenerateRunsListitems: go generate ./graph makes the same code as
// make generate, scripts/listitems after gqlgen; gqlgen alone would put
// back its goroutine per list item (and make check-generated would then
// call the result stale).
func TestGoGenerateRunsListitems(t *testing.T) {
	cmd := exec.Command("go", "generate", "-n", "./graph")
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go generate -n: %v\n%s", err, out)
	}
	gqlgen, listitems := -1, -1
	for i, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		switch {
		case strings.Contains(line, "gqlgen generate"):
			gqlgen = i
		case strings.Contains(line, "scripts/listitems") && strings.HasSuffix(line, "generated.go"):
			listitems = i
		}
	}
	if gqlgen < 0 || listitems < gqlgen {
		t.Errorf("go generate ./graph runs:\n%s\nwant gqlgen, then scripts/listitems on generated.go", out)
	}
}

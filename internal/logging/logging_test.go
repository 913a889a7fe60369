package logging_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"seatgraph/internal/logging"
)

// line folds what log does into a request line and returns its problems
// as the JSON handler writes them.
func line(t *testing.T, log func(*slog.Logger)) []map[string]any {
	t.Helper()
	var buf bytes.Buffer
	base := slog.New(slog.NewJSONHandler(&buf, nil))
	l, problems := logging.Folding(base)
	log(l)
	a, ok := problems.Attr()
	if !ok {
		t.Fatal("no problems folded")
	}
	base.LogAttrs(t.Context(), slog.LevelInfo, "request", a)
	var out struct {
		Problems []map[string]any `json:"problems"`
	}
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	return out.Problems
}

type point struct{ X, Y int }

// TestProblemsKeepErrors: an error value is logged by its text (a JSON
// encoder writes most error values as {}), other values as fmt.Sprint
// writes them; records of one message with different errors stay apart,
// and the same error again is counted.
func TestProblemsKeepErrors(t *testing.T) {
	ps := line(t, func(l *slog.Logger) {
		l.Error("resolver panicked", "panic", errors.New("boom"), "at", point{1, 2})
		l.Error("resolver failed", "error", errors.New("connection reset"), "path", "a")
		l.Error("resolver failed", "error", errors.New("connection reset"), "path", "b")
		l.Error("resolver failed", "error", errors.New("duplicate key"), "path", "c")
	})
	if len(ps) != 3 {
		t.Fatalf("want 3 problems (the panic and two distinct failures), got %v", ps)
	}
	if ps[0]["panic"] != "boom" || ps[0]["at"] != "{1 2}" {
		t.Errorf("the panic's values: %v", ps[0])
	}
	if ps[1]["error"] != "connection reset" || ps[1]["count"] != float64(2) || ps[1]["path"] != "a" {
		t.Errorf("the repeated failure: %v", ps[1])
	}
	if ps[2]["error"] != "duplicate key" || ps[2]["count"] != float64(1) {
		t.Errorf("the second, different failure is hidden: %v", ps[2])
	}
}

// TestProblemsCapped: at most 10 distinct problems are listed; the rest
// are counted in one "other problems" entry.
func TestProblemsCapped(t *testing.T) {
	ps := line(t, func(l *slog.Logger) {
		for i := range 15 {
			l.Warn("resolver failed", "error", fmt.Errorf("failure %d", i))
		}
	})
	if len(ps) != 11 || ps[10]["msg"] != "other problems" || ps[10]["count"] != float64(5) {
		t.Errorf("want 10 problems and 5 others, got %v", ps)
	}
}

// TestFoldingWritesItsAttrs: the lines Folding writes (debug ones) carry
// its attributes, also through a logger derived with more; the folded
// problems do not repeat them.
func TestFoldingWritesItsAttrs(t *testing.T) {
	var buf bytes.Buffer
	base := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l, problems := logging.Folding(base, slog.String("request_id", "r1"))
	l.Debug("statement", "sql", "SELECT 1")
	l.With("field", "License.name").Debug("statement", "sql", "SELECT 2")
	l.With("field", "License.name").Warn("resolver failed", "error", errors.New("boom"))
	dec := json.NewDecoder(&buf)
	for _, want := range []string{"SELECT 1", "SELECT 2"} {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("line for %s: %v", want, err)
		}
		if m["sql"] != want || m["request_id"] != "r1" {
			t.Errorf("want %s with request_id r1, got %v", want, m)
		}
		if want == "SELECT 2" && m["field"] != "License.name" {
			t.Errorf("the derived logger's attribute is missing: %v", m)
		}
	}
	if dec.More() {
		t.Errorf("the warning was written, not folded: %s", buf.String())
	}
	a, ok := problems.Attr()
	ps, _ := a.Value.Any().([]any)
	if !ok || len(ps) != 1 {
		t.Fatalf("want the warning folded, got %v", a)
	}
	if p := ps[0].(map[string]any); p["field"] != "License.name" || p["request_id"] != nil {
		t.Errorf("the folded warning should keep its own attributes only: %v", p)
	}
}

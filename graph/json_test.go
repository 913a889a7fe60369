package graph_test

import (
	"testing"

	"seatgraph/internal/gid"
)

// jsonAt walks a decoded JSON value along path: strings index objects,
// ints index arrays. A missing step fails the test.
func jsonAt(t testing.TB, v any, path ...any) any {
	t.Helper()
	for _, step := range path {
		switch k := step.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: %v is not an object", k, v)
			}
			if v, ok = m[k]; !ok {
				t.Fatalf("no field %q in %v", k, m)
			}
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("at [%d]: %v is not an array that long", k, v)
			}
			v = l[k]
		default:
			t.Fatalf("bad path step %v", step)
		}
	}
	return v
}

// jsonList is jsonAt for an array.
func jsonList(t testing.TB, v any, path ...any) []any {
	t.Helper()
	l, ok := jsonAt(t, v, path...).([]any)
	if !ok {
		t.Fatalf("%v at %v is not an array", jsonAt(t, v, path...), path)
	}
	return l
}

// jsonInt is jsonAt for a number (JSON numbers decode as float64).
func jsonInt(t testing.TB, v any, path ...any) int {
	t.Helper()
	n, ok := jsonAt(t, v, path...).(float64)
	if !ok {
		t.Fatalf("%v at %v is not a number", jsonAt(t, v, path...), path)
	}
	return int(n)
}

// nodeIDs lists the ids of the nodes of the connection at path.
func nodeIDs(t testing.TB, v any, path ...any) []string {
	t.Helper()
	var ids []string
	for _, n := range jsonList(t, v, append(path, "nodes")...) {
		ids = append(ids, jsonAt(t, n, "id").(string))
	}
	return ids
}

// typeIDsIn lists every string anywhere in v that is a TypeID.
func typeIDsIn(v any) []string {
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case string:
			if _, _, err := gid.Parse(x); err == nil {
				out = append(out, x)
			}
		}
	}
	walk(v)
	return out
}

// fieldValues lists the values of every field named name anywhere in v.
func fieldValues(v any, name string) []any {
	var out []any
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if k == name {
					out = append(out, e)
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

package gid

import (
	"testing"

	"github.com/google/uuid"
	"go.jetify.com/typeid"
)

// TestFormatIsTypeID: Format writes exactly the TypeID the typeid library
// makes of the same kind and uuid (its canonical form, validated there),
// for ids of every kind, including the all-zero and all-ones uuids.
func TestFormatIsTypeID(t *testing.T) {
	ids := []uuid.UUID{uuid.Nil, uuid.Max}
	for range 1000 {
		ids = append(ids, New(), uuid.New())
	}
	for _, k := range kinds {
		for _, u := range ids {
			want, err := typeid.FromUUIDBytesWithPrefix(string(k), u[:])
			if err != nil {
				t.Fatal(err)
			}
			if got := k.Format(u); got != want.String() {
				t.Fatalf("%s.Format(%s) = %q, want %q", k, u, got, want.String())
			}
		}
	}
}

func BenchmarkFormat(b *testing.B) {
	u := New()
	b.ReportAllocs()
	for b.Loop() {
		_ = Assignment.Format(u)
	}
}

func BenchmarkParse(b *testing.B) {
	s := Assignment.Format(New())
	b.ReportAllocs()
	for b.Loop() {
		_, _ = Assignment.Parse(s)
	}
}

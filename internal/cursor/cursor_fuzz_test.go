package cursor

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// FuzzDecode feeds Decode arbitrary cursors: it must never panic, must
// refuse anything it did not make with ErrInvalid, and what it accepts
// must encode back to a cursor that decodes to the same key.
func FuzzDecode(f *testing.F) {
	v := "2026-11-23T00:00:00Z"
	id := uuid.MustParse("01936f2e-8f3a-7b2c-9d4e-5f6a7b8c9d0e")
	f.Add(Encode(Key{Order: "created", Value: &v, ID: id}), "created")
	f.Add(Encode(Key{Order: "id", ID: id}), "id")
	f.Add(Encode(Key{Order: "created", Value: &v, ID: id}), "name") // another order
	f.Add("", "id")
	f.Add("not a cursor", "id")
	f.Add("eyJvIjoiaWQiLCJpIjoiMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwIn0", "id") // nil id
	f.Add("eyJvIjoiaWQiLCJ2IjpbMSwyXSwiaSI6IngifQ", "id")                                  // wrong types
	f.Add("W10", "id")                                                                     // "[]"
	f.Add("bnVsbA", "id")                                                                  // "null"
	f.Fuzz(func(t *testing.T, s, order string) {
		k, err := Decode(s, order)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Decode(%q) = %v, want an ErrInvalid", s, err)
			}
			return
		}
		if k.Order != order || k.ID == uuid.Nil || (k.Value != nil && strings.ContainsRune(*k.Value, 0)) {
			t.Fatalf("Decode(%q, %q) accepted %+v", s, order, k)
		}
		again, err := Decode(Encode(k), order)
		if err != nil || again.ID != k.ID || again.Order != k.Order ||
			(again.Value == nil) != (k.Value == nil) || (k.Value != nil && *again.Value != *k.Value) {
			t.Fatalf("round trip of %+v gave %+v, %v", k, again, err)
		}
		if b, _ := json.Marshal(k); Encode(k) != base64.RawURLEncoding.EncodeToString(b) {
			t.Fatalf("Encode(%+v) is not the base64 of json.Marshal's bytes", k)
		}
	})
}

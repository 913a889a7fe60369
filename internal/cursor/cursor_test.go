package cursor

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestRoundTrip(t *testing.T) {
	v := "Figma"
	k := Key{Order: "licenses.NAME.asc", Value: &v, ID: uuid.New()}
	got, err := Decode(Encode(k), k.Order)
	if err != nil || got.ID != k.ID || *got.Value != v {
		t.Fatalf("Decode(Encode(%+v)) = %+v, %v", k, got, err)
	}
	byID := Key{Order: "history", ID: uuid.New()}
	if got, err := Decode(Encode(byID), "history"); err != nil || got.Value != nil || got.ID != byID.ID {
		t.Fatalf("a cursor without a value came back as %+v, %v", got, err)
	}
}

func TestRefusals(t *testing.T) {
	made := Encode(Key{Order: "licenses.NAME.asc", ID: uuid.New()})
	for name, s := range map[string]string{
		"another order":    Encode(Key{Order: "licenses.CREATED.asc", ID: uuid.New()}),
		"not base64":       "%%%",
		"not JSON":         "bm90IGpzb24",
		"no id":            Encode(Key{Order: "licenses.NAME.asc"}),
		"over 1 KiB":       strings.Repeat("A", 2000),
		"a cut-off token":  made[:len(made)/2],
		"NUL in the value": Encode(Key{Order: "licenses.NAME.asc", Value: ptr("a\x00b"), ID: uuid.New()}),
	} {
		if _, err := Decode(s, "licenses.NAME.asc"); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Decode = %v, want ErrInvalid", name, err)
		}
	}
}

func ptr(s string) *string { return &s }

// TestEncodeAsJSON: Encode writes the bytes json.Marshal wrote before it
// (cursors handed out earlier stay the cursors of the same rows), for
// values that need escaping too.
func TestEncodeAsJSON(t *testing.T) {
	id := uuid.MustParse("01936f2e-8f3a-7b2c-9d4e-5f6a7b8c9d0e")
	for _, k := range []Key{
		{Order: "licenses.NAME.asc", ID: id},
		{Order: "licenses.NAME.asc", Value: ptr("Figma"), ID: id},
		{Order: "people.EMAIL.desc", Value: ptr(`a"b\c <d> & é 😀 ` + "\x01\t\u2028\xff"), ID: uuid.New()},
		{Order: "", Value: ptr(""), ID: uuid.Nil},
	} {
		b, err := json.Marshal(k)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := Encode(k), base64.RawURLEncoding.EncodeToString(b); got != want {
			t.Errorf("Encode(%+v) = %s, want %s (json.Marshal)", k, got, want)
		}
	}
}

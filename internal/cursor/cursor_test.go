package cursor

import (
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

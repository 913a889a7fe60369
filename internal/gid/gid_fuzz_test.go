package gid

import (
	"errors"
	"testing"
)

// FuzzParse feeds Parse arbitrary ids: it must never panic, must refuse
// what is not a TypeID of a known kind with ErrInvalid, and what it
// accepts must format back to an id that parses to the same value.
func FuzzParse(f *testing.F) {
	f.Add(License.Format(New()))
	f.Add(Assignment.Format(New()))
	f.Add(Person.Format(New()))
	f.Add(Group.Format(New()))
	f.Add(Event.Format(New()))
	f.Add("")
	f.Add("lic_")
	f.Add("lic_00000000000000000000000000")
	f.Add("lic_8zzzzzzzzzzzzzzzzzzzzzzzzz") // overflows 128 bits
	f.Add("xyz_01h455vb4pex5vsknk084sn02q") // unknown kind
	f.Add("LIC_01H455VB4PEX5VSKNK084SN02Q") // upper case
	f.Add("01h455vb4pex5vsknk084sn02q")     // no prefix
	f.Add("lic_01h455vb4pex5vsknk084sn02q\x00")
	f.Fuzz(func(t *testing.T, s string) {
		kind, u, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) = %v, want an ErrInvalid", s, err)
			}
			return
		}
		if _, ok := kinds[string(kind)]; !ok {
			t.Fatalf("Parse(%q) returned unknown kind %q", s, kind)
		}
		back, err := kind.Parse(kind.Format(u))
		if err != nil || back != u {
			t.Fatalf("round trip of %q: %v, %v", s, back, err)
		}
		for _, other := range []Kind{License, Assignment, Person, Group, Event} {
			if _, err := other.Parse(s); (err == nil) != (other == kind) {
				t.Fatalf("%s.Parse(%q) = %v, but the id is a %s id", other, s, err, kind)
			}
		}
	})
}

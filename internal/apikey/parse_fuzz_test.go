package apikey

import (
	"errors"
	"strings"
	"testing"

	"seatgraph/internal/gid"
)

// FuzzParse feeds arbitrary strings to the API key parser, which runs on
// every ApiKey header before any database lookup: it must never panic,
// must refuse with ErrMalformed, and must accept only the exact shape
// "sgk_<26-character id>_<64 hex digits>".
func FuzzParse(f *testing.F) {
	id := gid.New()
	good := keyPrefix + strings.TrimPrefix(FormatID(id), typeprefix+"_") + "_" + strings.Repeat("ab", secretLen/2)
	for _, s := range []string{good, "", "sgk_", good[:len(good)-1], good + "0", strings.ToUpper(good),
		strings.Replace(good, "_", "-", 2), "sgk_" + strings.Repeat("z", idLen) + "_" + strings.Repeat("0", secretLen),
		keyPrefix + strings.Repeat("0", idLen) + "_" + strings.Repeat("g", secretLen)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%q) = %v, want ErrMalformed", s, err)
			}
			return
		}
		if len(s) != keyLen || !strings.HasPrefix(s, keyPrefix) {
			t.Fatalf("Parse accepted %q", s)
		}
		if got := strings.TrimPrefix(FormatID(u), typeprefix+"_"); got != s[len(keyPrefix):len(keyPrefix)+idLen] {
			t.Fatalf("Parse(%q) = %s, which formats as %s", s, u, got)
		}
	})
}

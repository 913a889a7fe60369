package pgtext

import (
	"encoding/json"
	"testing"
)

func TestHasNUL(t *testing.T) {
	for body, want := range map[string]bool{
		`"a"`: false, `"a\u0000"`: true, `{"k": "v"}`: false, `{"k\u0000": 1}`: true,
		`{"k": [1, {"x": ["\u0000"]}]}`: true, `[true, null, 1.5, "x"]`: false,
	} {
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
		if got := HasNUL(v); got != want {
			t.Errorf("HasNUL(%s) = %v, want %v", body, got, want)
		}
	}
}

package httpapi

import (
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestDataOnlyAsJSON: a response that is data alone is written with the
// bytes json.Marshal wrote for it, and one it would escape or that has
// more than data is left to json.Marshal.
func TestDataOnlyAsJSON(t *testing.T) {
	for _, data := range []string{`{"license":null}`, `{"a":[{"email":"x@example.com","n":1.5,"ok":true}]}`, `{"s":"é 😀 \"q\" \\ \u0001"}`} {
		resp := &graphql.Response{Data: json.RawMessage(data)}
		want, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := dataOnly(resp)
		if !ok || string(got) != string(want) {
			t.Errorf("dataOnly(%s) = %s, %v; json.Marshal wrote %s", data, got, ok, want)
		}
	}
	// gqlgen's executor gives every response its extensions, an empty
	// map when there are none, which json.Marshal leaves out: such a
	// response is data alone.
	resp := &graphql.Response{Data: json.RawMessage(`{"a":1}`), Extensions: map[string]any{}}
	want, _ := json.Marshal(resp)
	if got, ok := dataOnly(resp); !ok || string(got) != string(want) {
		t.Errorf("dataOnly with no extensions (an empty map) = %s, %v; json.Marshal wrote %s", got, ok, want)
	}
	// Whitespace between tokens (json.Encoder ends what it writes with a
	// newline) is what json.Marshal takes out: the bytes must stay equal.
	resp = &graphql.Response{Data: json.RawMessage("{\"m\":{\"a\":1}\n,\"b\":[1,\t2]}")}
	want, _ = json.Marshal(resp)
	if got, ok := dataOnly(resp); ok && string(got) != string(want) {
		t.Errorf("dataOnly(%q) = %q; json.Marshal wrote %q", resp.Data, got, want)
	}
	for name, resp := range map[string]*graphql.Response{
		"<":          {Data: json.RawMessage(`{"name":"<b>"}`)},
		"&":          {Data: json.RawMessage(`{"name":"a&b"}`)},
		"U+2028":     {Data: json.RawMessage("{\"name\":\"a\u2028b\"}")},
		"errors":     {Data: json.RawMessage(`{"a":null}`), Errors: gqlerror.List{{Message: "no"}}},
		"extensions": {Data: json.RawMessage(`{"a":1}`), Extensions: map[string]any{"x": 1}},
		"no data":    {},
	} {
		if _, ok := dataOnly(resp); ok {
			t.Errorf("%s: dataOnly took a response json.Marshal must write", name)
		}
	}
}

package httpapi_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"seatgraph/internal/apitest"
)

// TestResponseIsCompactJSON: a response is written as json.Marshal
// writes it, compact (no whitespace between tokens), JSON scalars
// (metadata) included, with what it escapes escaped.
func TestResponseIsCompactJSON(t *testing.T) {
	srv := apitest.NewServer(t)
	tok := apitest.Token(t, apitest.Tenant("compact"))
	d := srv.MustDo(t, tok, `mutation($in: CreateLicenseInput!) { createLicense(input: $in) { license { id } } }`,
		map[string]any{"in": map[string]any{"name": "Compact", "metadata": map[string]any{"tier": "gold", "seats": 3, "note": "a<b & c>d"}}})
	id := d["createLicense"].(map[string]any)["license"].(map[string]any)["id"]
	for _, q := range []string{
		`query($id: ID!) { license(id: $id) { metadata name } }`,
		`query($id: ID!) { license(id: $id) { name } licenses { nodes { metadata } } }`,
	} {
		r := srv.Do(t, tok, q, map[string]any{"id": id})
		if len(r.Errors) > 0 {
			t.Fatalf("%s: %s", q, r.Raw)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, r.Raw); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(compact.Bytes(), r.Raw) {
			t.Errorf("%s: the response is not compact JSON: %q", q, r.Raw)
		}
		if bytes.ContainsAny(r.Raw, "<>&") {
			t.Errorf("%s: the response holds an unescaped <, > or &: %q", q, r.Raw)
		}
	}
}

package httpapi_test

import (
	"strings"
	"testing"

	"seatgraph/internal/apitest"
)

// TestErrorsCapped: a document that makes thousands of errors is
// answered with a bounded list, the last entry saying more were left out,
// so a small request cannot make a large response.
func TestErrorsCapped(t *testing.T) {
	srv := apitest.NewServer(t)
	tok := apitest.Token(t, apitest.Tenant("cap"))
	query := "{ __typename" + strings.Repeat(" @x", 3000) + " }"
	r := request{ctype: appJSON, accept: gqlResponse, body: jsonBody(query, nil)}.send(t, srv, tok)
	t.Logf("%d-byte document with 3,000 unknown directives: %d errors, %d response bytes", len(query), len(r.Errors), len(r.Raw))
	if r.Status != 400 || len(r.Errors) != 51 {
		t.Fatalf("got %d with %d errors, want 400 with 50 errors and a last one saying more were left out", r.Status, len(r.Errors))
	}
	last := r.Errors[50]
	if !strings.Contains(last.Message, "too many errors") || last.Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" {
		t.Errorf("the last error is %+v, want a GRAPHQL_VALIDATION_FAILED saying there were too many errors", last)
	}
}

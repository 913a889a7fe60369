package httpapi

import (
	"net/http"
	"testing"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"seatgraph/internal/codes"
)

// TestStatusBeforeCap: a SERVICE_UNAVAILABLE among the errors left out by
// the cap of 50 still makes the answer 503 (a retryable answer must not
// turn into a 200 because other fields failed first).
func TestStatusBeforeCap(t *testing.T) {
	var errs gqlerror.List
	for range 60 {
		errs = append(errs, &gqlerror.Error{Message: "not found", Extensions: map[string]any{"code": codes.BadUserInput}})
	}
	errs[55].Extensions["code"] = codes.ServiceUnavailable
	status, capped := executed(errs, false)
	if status != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", status)
	}
	if len(capped) != maxErrors+1 {
		t.Errorf("%d errors, want %d", len(capped), maxErrors+1)
	}
}

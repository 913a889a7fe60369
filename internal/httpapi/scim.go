package httpapi

import (
	"net/http"

	"seatgraph/internal/auth"
	"seatgraph/internal/scim"
	"seatgraph/internal/store"
)

// scimTimedOut is the SCIM Error answered when a request runs past the
// request timeout.
const scimTimedOut = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"503","detail":"request timed out"}`

// scimHandler serves SCIM 2.0 at /scim/v2 (internal/scim) under the same
// body limit and request timeout as /query (timeoutHandler); the
// credentials are checked
// by internal/scim, which answers in SCIM's own error format.
func scimHandler(db *store.DB, authn *auth.Authenticator, opts Options) http.Handler {
	inner := limitBody(opts.MaxBodyBytes, scim.New(db, authn))
	timed := timeoutHandler(opts.RequestTimeout, scimTimedOut, inner)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", scim.MediaType)
		timed.ServeHTTP(w, r)
	})
}

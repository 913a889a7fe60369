package httpapi

import (
	"net/http"
	"time"

	"github.com/rs/cors"
)

// withCORS lets browser frontends served from origins call the endpoint
// it wraps, /query alone (the playground, metrics, health and debug
// answers stay closed to other origins), with rs/cors: a preflight from
// one of them is answered with the methods and
// headers a GraphQL client sends (Authorization and Content-Type among
// them), every response to it carries Access-Control-Allow-Origin, and
// other origins get no CORS header at all, so their browsers refuse to
// hand them the answer. With no origins it changes nothing.
//
// Credentials travel in the Authorization header, never in cookies, so
// credentialed CORS stays off. CSRF prevention (overhttp.go) still applies:
// a cross-origin request that passed a preflight has already proven it is
// no simple form post.
func withCORS(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: []string{"Authorization", "Content-Type", "Accept",
			"Apollo-Require-Preflight", "X-Apollo-Operation-Name", "X-Request-ID"},
		ExposedHeaders: []string{"X-Request-ID", "WWW-Authenticate"},
		MaxAge:         int((10 * time.Minute).Seconds()),
	}).Handler(next)
}

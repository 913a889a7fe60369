// Package codes holds the extensions.code values of seatgraph's GraphQL
// errors (SPEC §3): the one list every layer that answers an error uses,
// from the HTTP middleware to the error presenter.
package codes

// The extensions.code values.
const (
	Unauthenticated  = "UNAUTHENTICATED"
	Forbidden        = "FORBIDDEN"
	BadUserInput     = "BAD_USER_INPUT"
	ParseFailed      = "GRAPHQL_PARSE_FAILED"
	ValidationFailed = "GRAPHQL_VALIDATION_FAILED"
	ComplexityLimit  = "COMPLEXITY_LIMIT_EXCEEDED"
	Internal         = "INTERNAL_SERVER_ERROR"
	// ServiceUnavailable marks an answer the caller should retry later:
	// the database cannot be reached, a write could not get its locks in
	// time, or the request timed out. It comes with HTTP 503 and Retry-After.
	ServiceUnavailable = "SERVICE_UNAVAILABLE"
	// BadRequest marks a request refused at the HTTP level (malformed
	// JSON, wrong media type, CSRF protection, body too large, batch).
	BadRequest = "BAD_REQUEST"
)

package licensing

// The SQL twins of the seat rules, for the tests that prove they agree
// with the Go definitions.
const (
	StatusSQL = statusSQL
	LiveSQL   = liveSQL
)

// EndedSQL is endedSQL, for the agreement tests.
func EndedSQL(col string) string { return endedSQL(col) }

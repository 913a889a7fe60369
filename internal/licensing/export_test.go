package licensing

// The rules' Go definitions and their SQL twins, for the tests that prove
// the two agree (rules_sql_test.go, in package licensing_test, which can
// start the real server).
var (
	Ended     = ended
	Live      = live
	HoldsSeat = holdsSeat
)

// The SQL twins.
const (
	StatusSQL  = statusSQL
	LiveSQL    = liveSQL
	HasFreeSQL = hasFreeSQL
)

// EndedSQL is endedSQL.
func EndedSQL(col string) string { return endedSQL(col) }

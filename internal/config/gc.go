package config

import (
	"os"
	"runtime/debug"
)

// DefaultGCPercent is the garbage collector's target (GOGC) the server
// runs with when GOGC is not set. A request allocates a few hundred KB
// that is garbage once its answer is written, and the live heap is small
// (tens of MB), so the default of 100 collects very often: at 200 the
// heap may grow to three times the live data instead of twice, and the
// collector's share of the CPU drops by about a fifth per request
// (bench/README.md). GOGC (and GOMEMLIMIT) in the environment win.
const DefaultGCPercent = 200

// TuneGC sets the garbage collector's target to DefaultGCPercent unless
// GOGC is set in the environment.
func TuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(DefaultGCPercent)
	}
}

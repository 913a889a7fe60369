package loaders

import "sync/atomic"

// spawn runs f in a goroutine of its own, as `go f()` does, but on a
// goroutine that has run such work before when one is idle. A new
// goroutine starts on a small stack and grows it, copying it each time,
// through the whole depth of a read (bun writing the statement, pgx,
// scanning rows): that growth was 5% of the server's CPU for shape C
// (bench/README.md, stop 26). A worker keeps the stack it grew (the
// garbage collector may shrink an idle one, by half per cycle).
//
// There is no bound on how many run at once: the work handed here waits
// for other work handed here (an item waits for its siblings' batch), so
// a bounded pool could deadlock. Only the idle workers are bounded: one
// finding maxIdle others waiting ends instead of waiting.
func spawn(f func()) {
	select {
	case idle <- f:
	default:
		go work(f)
	}
}

// maxIdle is how many workers may wait for work: more than the reads a
// busy server has in flight at once on a few cores.
const maxIdle = 64

var (
	idle    = make(chan func()) // unbuffered: a send is taken by a waiting worker or not at all
	waiting atomic.Int32
)

func work(f func()) {
	for {
		f()
		if waiting.Add(1) > maxIdle {
			waiting.Add(-1)
			return
		}
		f = <-idle
		waiting.Add(-1)
	}
}

package loaders

import (
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSpawnRunsAllAtOnce: work handed to spawn runs at once however much
// of it is waiting, as goroutines of their own would: 300 pieces that each
// wait until all 300 have begun finish (a bounded pool would deadlock, as
// items waiting for their siblings' batch would in a request).
func TestSpawnRunsAllAtOnce(t *testing.T) {
	const n = 300
	var begun sync.WaitGroup
	begun.Add(n)
	var done sync.WaitGroup
	done.Add(n)
	go func() {
		for range n {
			spawn(func() {
				begun.Done()
				begun.Wait()
				done.Done()
			})
		}
	}()
	finished := make(chan struct{})
	go func() { done.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(time.Minute):
		t.Fatal("work handed to spawn waited for other work to end: not all of it ran at once")
	}
}

// TestSpawnKeepsFewIdle: once a burst of work is over, at most maxIdle
// workers stay waiting for more; the rest end. Workers are counted by
// their stacks, not against the goroutines before the burst: the workers
// other tests left idle take part of the burst, so a count against before
// would not see a missing bound once another test has run.
func TestSpawnKeepsFewIdle(t *testing.T) {
	const n = 4 * maxIdle
	var begun, done sync.WaitGroup
	begun.Add(n)
	done.Add(n)
	for range n {
		spawn(func() {
			begun.Done()
			begun.Wait()
			done.Done()
		})
	}
	done.Wait()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		all, _ := workers()
		if all <= maxIdle {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d workers after a burst of %d: more than %d stayed", all, n, maxIdle)
		}
	}
}

// TestSpawnTakesIdleWorker: work handed to spawn while a worker is idle
// runs on that worker, not on a goroutine of its own.
func TestSpawnTakesIdleWorker(t *testing.T) {
	ran := make(chan struct{})
	spawn(func() { close(ran) })
	<-ran
	var all, idle int
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if all, idle = workers(); idle > 0 && idle == all {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d workers, %d of them idle, after work ended: want all idle, at least one", all, idle)
		}
	}
	release := make(chan struct{})
	running := make(chan struct{})
	spawn(func() { close(running); <-release })
	<-running
	after, _ := workers()
	close(release)
	if after != all {
		t.Errorf("%d workers while %d were idle and one took work: want %d (the idle one took it)", after, all, all)
	}
}

// workers counts the goroutines in work, and those of them idle (waiting
// in work itself for work).
func workers() (all, idle int) {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, "seatgraph/internal/loaders.work(") {
			continue
		}
		all++
		// The header, then the top frame.
		lines := strings.SplitN(g, "\n", 3)
		if len(lines) > 1 && strings.Contains(lines[0], "[chan receive") &&
			strings.HasPrefix(lines[1], "seatgraph/internal/loaders.work(") {
			idle++
		}
	}
	return all, idle
}

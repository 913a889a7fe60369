package loaders

import (
	"runtime"
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
// workers stay waiting for more; the rest end.
func TestSpawnKeepsFewIdle(t *testing.T) {
	before := runtime.NumGoroutine()
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
	for deadline := time.Now().Add(time.Minute); runtime.NumGoroutine() > before+maxIdle; {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after the burst, %d before: more than %d idle workers stayed", runtime.NumGoroutine(), before, maxIdle)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// And the idle ones take the next work.
	ran := make(chan struct{})
	spawn(func() { close(ran) })
	<-ran
}

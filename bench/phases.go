package main

import (
	"context"
	"sync"
	"time"
)

// call is one request of a side: the server's or direct SQL's.
type call func(ctx context.Context, i int) error

// fixedRate sends requests at rate per second for d whatever the answers
// take (an open loop: a slow answer does not delay the next request), the
// first after offset.
func fixedRate(ctx context.Context, rate float64, d, offset time.Duration, c call) run {
	rec := &recorder{}
	n := int(rate * d.Seconds())
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now().Add(offset)
	var wg sync.WaitGroup
	for i := range n {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		wg.Add(1)
		go func() { defer wg.Done(); rec.do(ctx, c) }()
	}
	wg.Wait()
	rec.r.Elapsed = time.Since(start)
	return rec.r
}

// fixedRates runs both sides at rate per second each for d, direct SQL's
// requests half an interval after the server's: both meet the machine in
// the same state (a shared machine's other work moves over seconds and
// minutes), and no request overlaps another unless one takes that long.
func fixedRates(ctx context.Context, rate float64, d time.Duration, server, direct call) (run, run) {
	half := time.Duration(float64(time.Second) / rate / 2)
	done := make(chan run, 1)
	go func() { done <- fixedRate(ctx, rate, d, 0, server) }()
	dr := fixedRate(ctx, rate, d, half, direct)
	return <-done, dr
}

// loop keeps c requests in flight for d (throughput at saturation).
func (rec *recorder) loop(ctx context.Context, c int, d time.Duration, call call) {
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				rec.do(ctx, call)
			}
		}()
	}
	wg.Wait()
	rec.r.Elapsed += time.Since(start)
}

// closedLoop keeps c requests in flight for d.
func closedLoop(ctx context.Context, c int, d time.Duration, call call) run {
	rec := &recorder{}
	rec.loop(ctx, c, d, call)
	return rec.r
}

// turns is one side of a phase run in turns, and what its turns cost.
type turns struct {
	call call
	rec  recorder
	cpu  cpuTime
	heap [2]uint64 // heap objects and bytes allocated during its turns
}

// inTurns keeps c requests in flight for d on each side, in turns of
// each (server, direct, server, …), so that a shared machine's other
// work falls on both sides alike. Each side's CPU time and allocations
// are counted over its own turns only.
func inTurns(ctx context.Context, m *cpuMeter, c int, d, each time.Duration, sides ...*turns) {
	for left := d; left > 0; left -= each {
		for _, s := range sides {
			before, heap := m.read(ctx), heapAllocs()
			s.rec.loop(ctx, c, min(each, left), s.call)
			after := heapAllocs()
			s.cpu.add(m.elapsed(ctx, before))
			s.heap[0] += after[0] - heap[0]
			s.heap[1] += after[1] - heap[1]
		}
	}
}

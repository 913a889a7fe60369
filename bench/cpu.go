package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// cpuMeter measures the CPU time a phase costs this process (the server
// and the load generator) and the PostgreSQL cluster (every process in
// pg_stat_activity: backends and background processes), from the
// kernel's accounting. Divided by the phase's requests it is a cost per
// request that, unlike throughput, the machine's other work hardly moves.
// It needs the cluster on this machine (the private cluster of make
// bench); elsewhere it measures nothing.
type cpuMeter struct {
	super *pgx.Conn // a superuser's connection: sees every process
	tick  time.Duration
}

// cpuReading is a reading of both sides' CPU time.
type cpuReading struct {
	self time.Duration
	pg   map[int]time.Duration // by process id
}

// cpuCost is a phase's CPU time per request, in microseconds.
type cpuCost struct {
	Process  float64 `json:"processUs"`  // this process: server and load generator
	Postgres float64 `json:"postgresUs"` // the cluster
}

func newCPUMeter(ctx context.Context, superURL string) (*cpuMeter, error) {
	c, err := pgx.Connect(ctx, superURL)
	if err != nil {
		return nil, err
	}
	// /proc's times are in clock ticks, 100 per second on Linux.
	return &cpuMeter{super: c, tick: 10 * time.Millisecond}, nil
}

func (m *cpuMeter) close(ctx context.Context) {
	if m != nil {
		_ = m.super.Close(ctx)
	}
}

func (m *cpuMeter) read(ctx context.Context) cpuReading {
	r := cpuReading{pg: map[int]time.Duration{}}
	if m == nil {
		return r
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		r.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	rows, _ := m.super.Query(ctx, "SELECT pid FROM pg_stat_activity")
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return r
	}
	for _, pid := range pids {
		if t, ok := m.procTime(int(pid)); ok {
			r.pg[int(pid)] = t
		}
	}
	return r
}

// procTime is process pid's user and system time from /proc.
func (m *cpuMeter) procTime(pid int) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The fields after the command (which may hold spaces), from the
	// state: utime and stime are fields 14 and 15 of the line.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * m.tick, true
}

// cpuTime is the CPU time this process and the cluster spent.
type cpuTime struct{ self, pg time.Duration }

func (t *cpuTime) add(u cpuTime) { t.self += u.self; t.pg += u.pg }

// elapsed is the CPU time from reading before to now; a process that
// started in between counts from zero, one that ended is lost.
func (m *cpuMeter) elapsed(ctx context.Context, before cpuReading) cpuTime {
	if m == nil {
		return cpuTime{}
	}
	now := m.read(ctx)
	t := cpuTime{self: now.self - before.self}
	for pid, d := range now.pg {
		t.pg += d - before.pg[pid]
	}
	return t
}

// perRequest is t over requests, in microseconds; nil without a meter.
func (m *cpuMeter) perRequest(t cpuTime, requests int) *cpuCost {
	if m == nil || requests == 0 {
		return nil
	}
	us := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(requests) }
	return &cpuCost{Process: us(t.self), Postgres: us(t.pg)}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// phase is one phase's figures.
type phase struct {
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"firstError,omitempty"`
	RPS        float64 `json:"rps"`
	P50MS      float64 `json:"p50ms"`
	P99MS      float64 `json:"p99ms"`
}

func rec(r run) phase {
	return phase{Requests: r.Requests, Errors: r.Errors, FirstError: r.FirstError, RPS: r.rps(),
		P50MS: ms(r.pct(0.50)), P99MS: ms(r.pct(0.99))}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// side is the server's or direct SQL's figures for a shape.
type side struct {
	Rate phase `json:"rate"` // at the fixed arrival rate
	C16  phase `json:"c16"`
	C64  phase `json:"c64"`
}

type result struct {
	Shape            string  `json:"shape"`
	About            string  `json:"about"`
	PerRequest       int     `json:"recordsPerRequest,omitempty"`
	Statements       float64 `json:"statementsPerRequest"`
	DirectStatements int     `json:"directStatementsPerRequest"`
	// Heap allocations per request of the server phases (this process's,
	// load generator included): a count that the machine's other work
	// does not move, unlike CPU time and throughput.
	AllocsPerRequest float64 `json:"serverAllocsPerRequest,omitempty"`
	BytesPerRequest  float64 `json:"serverAllocBytesPerRequest,omitempty"`
	// CPU time per request at c=16 (cpuMeter), of the server phase and
	// of the direct one.
	ServerCPU *cpuCost `json:"serverCpuPerRequestC16,omitempty"`
	DirectCPU *cpuCost `json:"directCpuPerRequestC16,omitempty"`
	Server    side     `json:"server"`
	Direct    side     `json:"direct"`
	Small     *phase   `json:"at10k,omitempty"` // server, at the fixed rate, on the 10k tenant
}

type expiryResult struct {
	BestMS   float64 `json:"bestMs"`
	MedianMS float64 `json:"medianMs"`
	Error    string  `json:"error,omitempty"`
}

type report struct {
	At          time.Time      `json:"at"`
	Machine     map[string]any `json:"machine"`
	LoadBefore  string         `json:"loadavgBefore"`
	LoadAfter   string         `json:"loadavgAfter"`
	Rate        float64        `json:"ratePerSecond"`
	RateFor     string         `json:"rateFor"`
	LoadFor     string         `json:"loadFor"`
	Conns       int            `json:"poolSize"`
	Results     []result       `json:"results"`
	Expiry      *expiryResult  `json:"expiryJob,omitempty"`
	Floor       *floorResult   `json:"floor,omitempty"`
	startedWith options
}

func newReport(ctx context.Context, db *pgxpool.Pool, o options) *report {
	return &report{At: time.Now().UTC(), Machine: machine(ctx, db), LoadBefore: loadavg(), Rate: o.rate,
		RateFor: o.rateFor.String(), LoadFor: o.loadFor.String(), Conns: o.conns, startedWith: o}
}

func (r *report) add(res result) { r.Results = append(r.Results, res) }

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// write prints the table and writes the JSON.
func (r *report) write(w io.Writer, jsonPath string) error {
	r.LoadAfter = loadavg()
	fmt.Fprintf(w, "\nseatgraph bench  %s  %v cpus (%v)  postgres %v  load %s → %s\n", r.At.Format(time.RFC3339),
		r.Machine["cpus"], r.Machine["cpu"], r.Machine["postgres"], r.LoadBefore, r.LoadAfter)
	fmt.Fprintf(w, "fixed rate %.0f/s for %s; throughput phases %s; pool %d connections each side\n\n", r.Rate, r.RateFor, r.LoadFor, r.Conns)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "shape\tstmts\tdirect\tp50 ms\tp99 ms\tdirect p50\tp50 ×\trps c16\tdirect c16\tc16 ratio\trps c64\tdirect c64\tc64 ratio\tp50 10k\terrors\t")
	for _, x := range r.Results {
		small := "-"
		if x.Small != nil {
			small = fmt.Sprintf("%.2f", x.Small.P50MS)
		}
		errs := x.Server.Rate.Errors + x.Server.C16.Errors + x.Server.C64.Errors + x.Direct.Rate.Errors + x.Direct.C16.Errors + x.Direct.C64.Errors
		fmt.Fprintf(tw, "%s\t%.1f\t%d\t%.2f\t%.2f\t%.2f\t%s\t%.0f\t%.0f\t%s\t%.0f\t%.0f\t%s\t%s\t%d\t\n", x.Shape, x.Statements, x.DirectStatements,
			x.Server.Rate.P50MS, x.Server.Rate.P99MS, x.Direct.Rate.P50MS, ratio(x.Server.Rate.P50MS, x.Direct.Rate.P50MS),
			x.Server.C16.RPS, x.Direct.C16.RPS, ratio(x.Server.C16.RPS, x.Direct.C16.RPS),
			x.Server.C64.RPS, x.Direct.C64.RPS, ratio(x.Server.C64.RPS, x.Direct.C64.RPS), small, errs)
	}
	_ = tw.Flush()
	var allocs []string
	for _, x := range r.Results {
		if x.AllocsPerRequest > 0 {
			allocs = append(allocs, fmt.Sprintf("%s %.0f (%.1f KB)", x.Shape, x.AllocsPerRequest, x.BytesPerRequest/1024))
		}
	}
	if len(allocs) > 0 {
		fmt.Fprintf(w, "\nheap allocations per server request (load generator included): %s\n", strings.Join(allocs, ", "))
	}
	var cpu []string
	for _, x := range r.Results {
		if x.ServerCPU != nil && x.DirectCPU != nil {
			cpu = append(cpu, fmt.Sprintf("%s %.0f+%.0f (direct %.0f+%.0f)", x.Shape,
				x.ServerCPU.Process, x.ServerCPU.Postgres, x.DirectCPU.Process, x.DirectCPU.Postgres))
		}
	}
	if len(cpu) > 0 {
		fmt.Fprintf(w, "CPU µs per request at c=16, this process (server and load generator) + postgres: %s\n", strings.Join(cpu, ", "))
	}
	for _, x := range r.Results {
		if n := float64(x.PerRequest); n > 0 {
			fmt.Fprintf(w, "\n%s: %d records per request: %.0f records/s at c=16 (direct %.0f), %.0f at c=64 (direct %.0f); p50 %.2f ms per request at the fixed rate\n",
				x.Shape, x.PerRequest, n*x.Server.C16.RPS, n*x.Direct.C16.RPS, n*x.Server.C64.RPS, n*x.Direct.C64.RPS, x.Server.Rate.P50MS)
		}
	}
	if f := r.Floor; f != nil {
		fmt.Fprintf(w, "\nfloor at %g/s, nothing to read (p50/p99 ms): net/http round trip %.2f/%.2f, { __typename } through the server %.2f/%.2f, SELECT 1 through pgx %.2f/%.2f\n",
			r.Rate, f.HTTP.P50MS, f.HTTP.P99MS, f.GraphQL.P50MS, f.GraphQL.P99MS, f.SQL.P50MS, f.SQL.P99MS)
	}
	if r.Expiry != nil {
		fmt.Fprintf(w, "\nexpiry job, 1M tenant, nothing due: best %.1f ms, median %.1f ms %s\n", r.Expiry.BestMS, r.Expiry.MedianMS, r.Expiry.Error)
	}
	for _, x := range r.Results {
		for _, p := range []phase{x.Server.Rate, x.Server.C16, x.Server.C64, x.Direct.Rate, x.Direct.C16, x.Direct.C64} {
			if p.FirstError != "" {
				fmt.Fprintf(w, "%s: first error: %s\n", x.Shape, p.FirstError)
				break
			}
		}
	}
	if jsonPath == "" {
		return nil
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	return os.WriteFile(jsonPath, append(b, '\n'), 0o644)
}

// Command bench measures seatgraph on a tenant with 1M assignments: for
// each typical query shape it reports statements per request, latency at
// a low fixed arrival rate, throughput at 16 and 64 concurrent requests,
// and the same figures for the same statements sent directly through pgx
// on the same database in the same run, so the server's overhead is a
// ratio. See bench/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/uptrace/bun"

	"seatgraph/internal/apikey"
	"seatgraph/internal/auth"
	"seatgraph/internal/config"
	"seatgraph/internal/httpapi"
	"seatgraph/internal/licensing"
	"seatgraph/internal/store"
)

const secret = "bench-secret-0123456789abcdef0123456789abcdef"

type options struct {
	dbname   string
	only     string
	rate     float64
	rateFor  time.Duration
	loadFor  time.Duration
	warmFor  time.Duration
	turn     time.Duration
	conns    int
	jsonOut  string
	cpu      string
	mem      string
	check    bool
	skipDiff bool
}

func main() {
	var o options
	flag.StringVar(&o.dbname, "db", "seatgraph_bench", "bench database (on the private cluster; made and filled when missing)")
	flag.StringVar(&o.only, "shapes", "", "comma-separated shapes to run (default: all)")
	flag.Float64Var(&o.rate, "rate", 5, "fixed arrival rate (requests per second) for the latency phase")
	flag.DurationVar(&o.rateFor, "rate-for", 10*time.Second, "length of the fixed-rate phase")
	flag.DurationVar(&o.loadFor, "load-for", 4*time.Second, "length of each throughput phase")
	flag.DurationVar(&o.warmFor, "warm-for", time.Second, "length of each side's warm-up at 64 concurrent requests, before anything is measured")
	flag.DurationVar(&o.turn, "turn", time.Second, "length of each side's turn in a throughput phase (server, direct, server, …)")
	flag.IntVar(&o.conns, "conns", 20, "connection pool size, for the server and for direct SQL alike")
	flag.StringVar(&o.jsonOut, "json", "bench/latest.json", "where to write the JSON report (empty: nowhere)")
	flag.StringVar(&o.cpu, "cpuprofile", "", "write a CPU profile of the server phases to this file")
	flag.StringVar(&o.mem, "memprofile", "", "write a heap allocation profile (pprof allocs) after the first shape's server phases to this file")
	flag.BoolVar(&o.check, "check", false, "only EXPLAIN every list query of the API at 1M and fail on a sequential scan or a big sort")
	flag.BoolVar(&o.skipDiff, "no-small", false, "skip the 10k-tenant latency comparison")
	flag.Parse()
	log.SetFlags(log.Ltime)
	config.TuneGC() // as the server runs (serve in server.go)
	if err := run1(context.Background(), o); err != nil {
		log.Fatal(err)
	}
}

func run1(ctx context.Context, o options) error {
	super := os.Getenv("SEATGRAPH_TEST_SUPERUSER_URL")
	if super == "" {
		return fmt.Errorf("SEATGRAPH_TEST_SUPERUSER_URL is not set: run through make bench")
	}
	u, err := benchURLs(super, o.dbname)
	if err != nil {
		return err
	}
	if err := prepare(ctx, u, o.dbname, scale1M, scale10k); err != nil {
		return err
	}

	// The server: the real HTTP handler, in this process, over loopback.
	// -check reads the statements the server sends through a query hook.
	capt := &capture{}
	var hooks []bun.QueryHook
	if o.check {
		hooks = append(hooks, capt)
	}
	db, err := store.Open(ctx, u.app, store.Options{MaxConns: o.conns, StatementTimeout: 5 * time.Second, Hooks: hooks})
	if err != nil {
		return err
	}
	defer db.Close()
	verifier, err := auth.NewVerifier(ctx, auth.JWTConfig{Secret: []byte(secret)})
	if err != nil {
		return err
	}
	h := httpapi.New(db, &auth.Authenticator{JWT: verifier, Keys: apikey.NewStore(db.Bun())},
		slog.New(slog.NewJSONHandler(io.Discard, nil)), httpapi.Options{Source: "bench"})
	srv := httptest.NewServer(h)
	defer srv.Close()

	if o.check {
		return explainAll(ctx, srv.URL, capt, u, scale1M.Tenant)
	}

	direct, err := directPool(ctx, u.app, scale1M.Tenant, o.conns)
	if err != nil {
		return err
	}
	defer direct.Close()
	smallPool, err := directPool(ctx, u.app, scale10k.Tenant, 2)
	if err != nil {
		return err
	}
	defer smallPool.Close()
	owner, err := directPool(ctx, u.owner, scale1M.Tenant, 2)
	if err != nil {
		return err
	}
	defer owner.Close()
	if err := dropWriteLicenses(ctx, owner, scale1M.Tenant); err != nil {
		return err
	}
	big, err := loadIDs(ctx, direct, true)
	if err != nil {
		return err
	}
	small, err := loadIDs(ctx, smallPool, false)
	if err != nil {
		return err
	}

	meter, err := newCPUMeter(ctx, u.super)
	if err != nil {
		log.Printf("no CPU figures: %v", err)
	}
	defer meter.close(ctx)
	rep := newReport(ctx, direct, o)
	bigClient := newClient(srv.URL, mint(scale1M.Tenant))
	smallClient := newClient(srv.URL, mint(scale10k.Tenant))
	var prof *os.File
	if o.cpu != "" {
		if prof, err = os.Create(o.cpu); err != nil {
			return err
		}
		defer prof.Close()
	}
	for _, sh := range shapes(scale1M.Tenant, big, small, newWriteLicense(ctx, owner, scale1M.Tenant)) {
		if o.only != "" && !slices.Contains(strings.Split(o.only, ","), sh.Name) {
			continue
		}
		log.Printf("shape %s", sh.Name)
		r := result{Shape: sh.Name, About: sh.About, PerRequest: sh.PerRequest}
		server := func(ctx context.Context, i int) error { return bigClient.post(ctx, sh.Query, sh.Vars(i)) }
		var directStatements atomic.Int64
		directCall := func(ctx context.Context, i int) error {
			n, err := sh.Direct(ctx, direct, i)
			directStatements.Store(int64(n))
			return err
		}
		if sh.NewPhase != nil {
			if err := sh.NewPhase(); err != nil {
				return err
			}
		}
		// Warm up both sides (caches, pools, prepared statements).
		for i := range 20 {
			if err := server(ctx, i); err != nil {
				return fmt.Errorf("shape %s: %w", sh.Name, err)
			}
			if err := directCall(ctx, i); err != nil {
				return fmt.Errorf("shape %s direct: %w", sh.Name, err)
			}
		}
		// Then at full concurrency, so that both pools hold all their
		// connections before anything is measured: a new connection is a
		// PostgreSQL backend to start, with empty caches and its
		// statements to prepare, a cost of the first seconds under load
		// and not of a server that runs.
		closedLoop(ctx, 64, o.warmFor, server)
		closedLoop(ctx, 64, o.warmFor, directCall)
		if prof != nil {
			_ = pprof.StartCPUProfile(prof)
		}
		before := db.Statements()
		sr, dr := fixedRates(ctx, o.rate, o.rateFor, server, directCall)
		r.Server.Rate, r.Direct.Rate = rec(sr), rec(dr)
		r.Statements = float64(db.Statements()-before) / float64(sr.Requests)
		r.DirectStatements = int(directStatements.Load())
		s16, d16 := &turns{call: server}, &turns{call: directCall}
		inTurns(ctx, meter, 16, o.loadFor, o.turn, s16, d16)
		s64, d64 := &turns{call: server}, &turns{call: directCall}
		inTurns(ctx, meter, 64, o.loadFor, o.turn, s64, d64)
		r.Server.C16, r.Direct.C16 = rec(s16.rec.r), rec(d16.rec.r)
		r.Server.C64, r.Direct.C64 = rec(s64.rec.r), rec(d64.rec.r)
		r.ServerCPU = meter.perRequest(s16.cpu, s16.rec.r.Requests)
		r.DirectCPU = meter.perRequest(d16.cpu, d16.rec.r.Requests)
		if n := s16.rec.r.Requests + s64.rec.r.Requests; n > 0 {
			r.AllocsPerRequest = float64(s16.heap[0]+s64.heap[0]) / float64(n)
			r.BytesPerRequest = float64(s16.heap[1]+s64.heap[1]) / float64(n)
		}
		if prof != nil {
			pprof.StopCPUProfile()
			prof = nil // one profile: the first shape run
		}
		if o.mem != "" {
			if err := writeAllocs(o.mem); err != nil {
				return err
			}
			o.mem = "" // one profile: the first shape run
		}
		if sh.Small != nil && !o.skipDiff {
			small := func(ctx context.Context, i int) error { return smallClient.post(ctx, sh.Query, sh.Small(i)) }
			for i := range 10 {
				if err := small(ctx, i); err != nil {
					return fmt.Errorf("shape %s at 10k: %w", sh.Name, err)
				}
			}
			s := rec(fixedRate(ctx, o.rate, o.rateFor/2, 0, small))
			r.Small = &s
		}
		rep.add(r)
		if sh.NewPhase != nil {
			if err := checkWriteCounters(ctx, owner, scale1M.Tenant); err != nil {
				return fmt.Errorf("shape %s: %w", sh.Name, err)
			}
		}
	}
	if o.only == "" || slices.Contains(strings.Split(o.only, ","), "floor") {
		log.Printf("floor")
		if rep.Floor, err = floor(ctx, o.rate, o.rateFor, bigClient, direct); err != nil {
			return err
		}
	}
	if o.only == "" || slices.Contains(strings.Split(o.only, ","), "expiry") {
		log.Printf("expiry job")
		// On a pool of its own, as the server runs its jobs (store.JobPlans).
		jobs, err := store.Open(ctx, u.app, store.Options{MaxConns: 2, StatementTimeout: 5 * time.Second, PlanCacheMode: store.JobPlans})
		if err != nil {
			return err
		}
		defer jobs.Close()
		rep.Expiry = expiry(ctx, jobs, scale1M.Tenant)
	}
	return rep.write(os.Stdout, o.jsonOut)
}

// writeAllocs writes the allocations profile (every allocation since the
// process started, sampled) to path.
func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("allocs").WriteTo(f, 0)
}

// heapAllocs is the number of heap objects and bytes this process has
// allocated so far.
func heapAllocs() [2]uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}, {Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return [2]uint64{s[0].Value.Uint64(), s[1].Value.Uint64()}
}

func mint(tenant string) string {
	tok, err := auth.Mint(auth.JWTConfig{Secret: []byte(secret)},
		auth.TokenRequest{Tenant: tenant, Subject: "bench", Scopes: auth.AllScopes, TTL: 24 * time.Hour})
	if err != nil {
		panic(err)
	}
	return tok
}

// directPool is pgx with the tenant set once per connection: the least a
// client must do for row-level security to show it the tenant's rows.
func directPool(ctx context.Context, url, tenant string, size int) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = int32(size)
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, "SELECT set_config('app.tenant_id', $1, false)", tenant)
		return err
	}
	return pgxpool.NewWithConfig(ctx, cfg)
}

// expiry times the expiry job's pass over the 1M tenant (nothing is due,
// so this is the cost of finding that out), best and median of five.
func expiry(ctx context.Context, db *store.DB, tenant string) *expiryResult {
	var took []time.Duration
	for range 5 {
		start := time.Now()
		if _, err := licensing.ExpireTenant(ctx, db, tenant); err != nil {
			return &expiryResult{Error: err.Error()}
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	return &expiryResult{BestMS: ms(took[0]), MedianMS: ms(took[len(took)/2])}
}

func machine(ctx context.Context, db *pgxpool.Pool) map[string]any {
	m := map[string]any{"go": runtime.Version(), "cpus": runtime.NumCPU(), "os": runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m["cpu"] = strings.TrimSpace(v)
				break
			}
		}
	}
	var v string
	if db.QueryRow(ctx, "SHOW server_version").Scan(&v) == nil {
		m["postgres"] = v
	}
	return m
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

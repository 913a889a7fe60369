package store_test

import (
	"context"
	"slices"
	"testing"

	"seatgraph/internal/apitest"
	"seatgraph/internal/store"
)

// TestStartupParametersPoolerAccepts: the pool's connections ask in their
// startup message only for the settings a session-mode pooler passes on
// (README, Connection poolers). PgBouncer refuses a connection whose
// startup message names any other ("unsupported startup parameter"), so
// the plan_cache_mode the pool wants is set once the connection is open,
// and still holds.
func TestStartupParametersPoolerAccepts(t *testing.T) {
	ctx := context.Background()
	d := apitest.DB(t)
	for _, mode := range []string{"", store.JobPlans, "force_custom_plan"} {
		db, err := store.Open(ctx, d.AppURL, store.Options{MaxConns: 1, PlanCacheMode: mode})
		if err != nil {
			t.Fatal(err)
		}
		var fromStartup []string
		err = db.Bun().NewRaw("SELECT name FROM pg_settings WHERE source = 'client' ORDER BY name").Scan(ctx, &fromStartup)
		if err != nil {
			t.Fatal(err)
		}
		// PgBouncer's own: client_encoding, DateStyle, TimeZone,
		// standard_conforming_strings, application_name.
		for _, name := range fromStartup {
			if !slices.Contains([]string{"application_name", "client_encoding", "DateStyle", "TimeZone", "standard_conforming_strings"}, name) {
				t.Errorf("PLAN_CACHE_MODE %q: the connection's startup message sets %s, which PgBouncer refuses", mode, name)
			}
		}
		want := mode
		if want == "" {
			want = store.GenericPlans
			if d.Citus() {
				want = "auto"
			}
		}
		var got string
		if err := db.Bun().NewRaw("SELECT current_setting('plan_cache_mode')").Scan(ctx, &got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PLAN_CACHE_MODE %q: the connection plans with %s, want %s", mode, got, want)
		}
		_ = db.Close()
	}
}

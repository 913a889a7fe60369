package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"seatgraph/internal/apikey"
	"seatgraph/internal/apitest"
	"seatgraph/internal/auth"
	"seatgraph/internal/store"
)

// nonStandardStrings turns standard_conforming_strings off for the package
// database (a database-level setting an operator may have), for the rest
// of the test: a backslash then escapes a quote inside '…'.
func nonStandardStrings(t *testing.T) {
	t.Helper()
	d := apitest.DB(t)
	super := d.SQL(t)
	if _, err := super.Exec(fmt.Sprintf("ALTER DATABASE %s SET standard_conforming_strings = off", d.Name)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = super.Exec(fmt.Sprintf("ALTER DATABASE %s RESET standard_conforming_strings", d.Name))
	})
}

// A tenant claim crafted to break out of the tenant setting's quotes,
// where the database treats backslashes as escapes, is refused with 401
// and cannot touch another tenant's data.
func TestCraftedTenantClaimDoesNotCrossTheWall(t *testing.T) {
	nonStandardStrings(t)
	srv := apitest.NewServer(t)
	victim := apitest.Tenant("victim")
	apitest.NewFixture(t, srv.DB, victim).License("Untouched", 3)

	payload := `x\'; COMMIT; SET app.tenant_id = $$` + victim +
		`$$; UPDATE licenses SET name = $$pwned$$ WHERE tenant_id = $$` + victim + `$$; --`
	tok := apitest.TokenFor(t, auth.TokenRequest{Tenant: payload, Subject: "attacker"})
	r := srv.Do(t, tok, `{ licenses { nodes { name } } }`, nil)
	if r.Status != http.StatusUnauthorized || len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "tenant") {
		t.Errorf("crafted tenant claim answered %d %s, want 401 naming the tenant", r.Status, r.Raw)
	}
	var name string
	if err := apitest.DB(t).SQL(t).QueryRow("SELECT name FROM licenses WHERE tenant_id = $1", victim).Scan(&name); err != nil {
		t.Fatal(err)
	}
	if name != "Untouched" {
		t.Fatalf("the victim's license is now named %q: the crafted tenant claim crossed the wall", name)
	}
}

// Tenant claims outside the documented form (store.CheckTenantID) are
// refused with 401 and a reason, never a 500.
func TestMalformedTenantClaimRefused(t *testing.T) {
	srv := apitest.NewServer(t)
	for name, tenant := range map[string]string{
		"NUL":       "acme\x00corp",
		"newline":   "acme\ncorp",
		"quote":     "o'brien",
		"backslash": `acme\corp`,
		"space":     "acme corp",
		"too long":  strings.Repeat("a", 129),
	} {
		t.Run(name, func(t *testing.T) {
			tok := apitest.TokenFor(t, auth.TokenRequest{Tenant: tenant, Subject: "someone"})
			r := srv.Do(t, tok, `{ licenses { nodes { name } } }`, nil)
			if r.Status != http.StatusUnauthorized || len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "tenant") {
				t.Errorf("tenant %q answered %d %s, want 401 naming the tenant", tenant, r.Status, r.Raw)
			}
		})
	}
	ok := apitest.TokenFor(t, auth.TokenRequest{Tenant: "Acme.EU:prod@2026_x-1", Subject: "someone"})
	srv.MustDo(t, ok, `{ licenses { nodes { name } } }`, nil)
}

// API keys hold the same form of tenant: Create refuses another, and a
// key whose row was given one by hand is refused with 401.
func TestAPIKeyTenantChecked(t *testing.T) {
	ctx := context.Background()
	srv := apitest.NewServer(t)
	owner, err := store.Open(ctx, apitest.DB(t).OwnerURL, store.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = owner.Close() })
	keys := apikey.NewStore(owner.Bun())
	if _, _, err := keys.Create(ctx, apikey.CreateRequest{Tenant: "acme corp", Scopes: []string{auth.ScopeAdmin},
		CreatedBy: "test"}); !errors.Is(err, store.ErrBadTenant) {
		t.Errorf("Create for tenant %q: %v, want store.ErrBadTenant", "acme corp", err)
	}

	tenant := apitest.Tenant("key-tenant")
	key, k, err := keys.Create(ctx, apikey.CreateRequest{Tenant: tenant, Scopes: []string{auth.ScopeAdmin}, CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apitest.DB(t).SQL(t).Exec("UPDATE api_keys SET tenant_id = $1 WHERE tenant_id = $2 AND id = $3",
		"acme\ncorp", tenant, k.ID); err != nil {
		t.Fatal(err)
	}
	r := call(t, srv, "ApiKey "+key)
	if r.Status != http.StatusUnauthorized || len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "tenant") {
		t.Errorf("API key with tenant %q answered %d %s, want 401 naming the tenant", "acme\ncorp", r.Status, r.Raw)
	}
}

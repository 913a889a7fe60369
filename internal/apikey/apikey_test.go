package apikey_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"seatgraph/internal/apikey"
	"seatgraph/internal/apitest"
	"seatgraph/internal/store"
)

// ownerStore is a Store on the schema owner's connection, as the CLI has.
func ownerStore(t *testing.T) *apikey.Store {
	t.Helper()
	db, err := store.Open(context.Background(), apitest.DB(t).OwnerURL, store.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return apikey.NewStore(db.Bun())
}

func run(t *testing.T, s *apikey.Store, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = apikey.Command(context.Background(), s, args, &out, &errOut)
	return out.String(), errOut.String(), err
}

var keyShape = regexp.MustCompile(`^sgk_[0-9a-z]{26}_[0-9a-f]{64}$`)

// TestCommand drives "seatgraph apikey create|list|revoke" as an operator
// would: the key is printed once, only its digest is stored, and list and
// revoke work by the key's public id.
func TestCommand(t *testing.T) {
	s := ownerStore(t)
	super := apitest.DB(t).SQL(t)
	tenant, other := apitest.Tenant("cli"), apitest.Tenant("cli-other")

	out, errOut, err := run(t, s, "create", "--tenant", tenant, "--app", "crm", "--scopes", "licenses:read usage:write",
		"--ttl", "24h", "--name", "CRM sync")
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSuffix(out, "\n")
	if !keyShape.MatchString(key) {
		t.Fatalf("stdout %q is not just a key", out)
	}
	m := regexp.MustCompile(`created API key (key_[0-9a-z]{26})`).FindStringSubmatch(errOut)
	if m == nil || !strings.Contains(errOut, "shown only now") {
		t.Fatalf("stderr %q does not name the key id and warn it is shown once", errOut)
	}
	id := m[1]

	t.Run("only a digest is stored", func(t *testing.T) {
		digest := sha256.Sum256([]byte(key))
		var n, leaks int
		secret := key[strings.LastIndex(key, "_")+1:]
		err := super.QueryRow(`SELECT count(*) FILTER (WHERE hash = $1),
			count(*) FILTER (WHERE strpos(row_to_json(k)::text, $2) > 0 OR strpos(encode(hash, 'hex'), $2) > 0)
			FROM api_keys k`, digest[:], secret).Scan(&n, &leaks)
		if err != nil || n != 1 || leaks != 0 {
			t.Errorf("rows with the digest: %d, rows holding the secret: %d (%v)", n, leaks, err)
		}
	})

	if _, _, err := run(t, s, "create", "--tenant", other, "--scopes", "admin", "--ttl", "0"); err != nil {
		t.Fatal(err)
	}

	t.Run("list", func(t *testing.T) {
		out, _, err := run(t, s, "list", "--tenant", tenant)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "ID") {
			t.Fatalf("list --tenant: %q", out)
		}
		for _, want := range []string{id, tenant, "crm", "CRM sync", "licenses:read usage:write", "active"} {
			if !strings.Contains(lines[1], want) {
				t.Errorf("list row %q lacks %q", lines[1], want)
			}
		}
		if strings.Contains(out, key[4:]) {
			t.Error("list shows the key")
		}
		all, _, _ := run(t, s, "list")
		if !strings.Contains(all, tenant) || !strings.Contains(all, other) {
			t.Errorf("list without --tenant: %q", all)
		}
	})

	t.Run("revoke", func(t *testing.T) {
		out, _, err := run(t, s, "revoke", id)
		if err != nil || !strings.Contains(out, "revoked API key "+id) {
			t.Fatalf("revoke: %q, %v", out, err)
		}
		if list, _, _ := run(t, s, "list", "--tenant", tenant); !strings.Contains(list, "revoked") {
			t.Errorf("list after revoke: %q", list)
		}
		if _, err := s.CheckKey(context.Background(), key); err == nil || !strings.Contains(err.Error(), "revoked") {
			t.Errorf("a revoked key checks as %v", err)
		}
		if _, _, err := run(t, s, "revoke", id); err == nil || !strings.Contains(err.Error(), "already revoked") {
			t.Errorf("revoking twice: %v", err)
		}
		if _, _, err := run(t, s, "revoke", "key_01h455vb4pex5vsknk084sn02q"); err == nil || !strings.Contains(err.Error(), "no such API key") {
			t.Errorf("revoking an unknown id: %v", err)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"create", "--scopes", "admin"}, `Required flag "tenant" not set`},
			{[]string{"create", "--tenant", " ", "--scopes", "admin"}, "a tenant is required"},
			{[]string{"create", "--tenant", tenant, "--scopes", "licenses:read root"}, `unknown scope "root"`},
			{[]string{"create", "--tenant", tenant, "--scopes", ""}, "at least one scope"},
			{[]string{"create", "--tenant", tenant, "--ttl", "-1h"}, "must not be negative"},
			{[]string{"revoke"}, "exactly one key id"},
			{[]string{"revoke", "lic_01h455vb4pex5vsknk084sn02q"}, "is not an API key id"},
			{[]string{"rotate"}, "unknown subcommand"},
			{nil, "want create, list or revoke"},
		} {
			if _, _, err := run(t, s, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("apikey %v: %v, want an error saying %q", tc.args, err, tc.want)
			}
		}
	})
}

// TestServerRoleCannotWriteKeys proves the row-level security decision of
// the api_keys migration: the server's role cannot mint, alter or delete
// keys, reads only its own tenant's keys inside a tenant transaction and
// none outside one, and can still check a key through the lookup function.
func TestServerRoleCannotWriteKeys(t *testing.T) {
	ctx := context.Background()
	owner := ownerStore(t)
	a, b := apitest.Tenant("keys-a"), apitest.Tenant("keys-b")
	keyA, _, err := owner.Create(ctx, apikey.CreateRequest{Tenant: a, Scopes: []string{"licenses:read"}, CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := owner.Create(ctx, apikey.CreateRequest{Tenant: b, Scopes: []string{"admin"}, CreatedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	app, err := sql.Open("pgx", apitest.DB(t).AppURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Close() })

	_, err = app.Exec(`INSERT INTO api_keys (tenant_id, id, scopes, hash, created_by)
		VALUES ($1, gen_random_uuid(), '{admin}', sha256('planted'), 'x')`, a)
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || pg.Code != "42501" {
		t.Errorf("insert by the server's role: %v, want an RLS violation", err)
	}
	for _, stmt := range []string{"UPDATE api_keys SET scopes = '{admin}', expires_at = NULL", "DELETE FROM api_keys"} {
		res, err := app.Exec(stmt)
		if err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		if n, _ := res.RowsAffected(); n != 0 {
			t.Errorf("%s changed %d keys", stmt, n)
		}
	}
	var visible int
	if err := app.QueryRow("SELECT count(*) FROM api_keys").Scan(&visible); err != nil || visible != 0 {
		t.Errorf("keys visible with no tenant set: %d (%v)", visible, err)
	}
	tx, err := app.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	apitest.SetTenant(t, tx, a)
	var tenants string
	if err := tx.QueryRow("SELECT string_agg(DISTINCT tenant_id, ',') FROM api_keys").Scan(&tenants); err != nil || tenants != a {
		t.Errorf("keys visible in tenant %s's transaction: %q (%v)", a, tenants, err)
	}

	db := apitest.DB(t).Open(t)
	p, err := apikey.NewStore(db.Bun()).CheckKey(ctx, keyA)
	if err != nil || p.TenantID != a {
		t.Errorf("checking a key as the server's role: %+v, %v", p, err)
	}
}

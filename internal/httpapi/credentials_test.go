package httpapi_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"seatgraph/internal/apikey"
	"seatgraph/internal/apitest"
	"seatgraph/internal/auth"
	"seatgraph/internal/store"
)

const (
	issuer   = "https://idp.example/"
	audience = "seatgraph"
)

// jwksServer publishes a key set that a test can replace (rotation) and
// counts how often it is fetched.
type jwksServer struct {
	*httptest.Server
	mu    sync.Mutex
	keys  []map[string]string
	fetch atomic.Int64
}

func newJWKS(t *testing.T, keys ...map[string]string) *jwksServer {
	s := &jwksServer{keys: keys}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.fetch.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": s.keys})
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) publish(keys ...map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(kid string, k *rsa.PrivateKey) map[string]string {
	return map[string]string{"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
		"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
}

func ecJWK(kid string, k *ecdsa.PrivateKey) map[string]string {
	pub, _ := k.PublicKey.Bytes() // 0x04 || X || Y, 32 bytes each
	return map[string]string{"kty": "EC", "kid": kid, "alg": "ES256", "use": "sig", "crv": "P-256",
		"x": b64(pub[1:33]), "y": b64(pub[33:])}
}

func rsaKey(t *testing.T) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// claims are valid claims for tenant, changed by edit.
func claims(tenant string, edit func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{"sub": "user-1", "tenant_id": tenant, "scope": strings.Join(auth.AllScopes, " "),
		"iss": issuer, "aud": audience, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	if edit != nil {
		edit(c)
	}
	return c
}

func sign(t *testing.T, m jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// viewerQuery is answered from the credentials alone.
const viewerQuery = `{ viewer { tenantId appId subject scopes } }`

// call posts viewerQuery with an Authorization header.
func call(t *testing.T, srv *apitest.Server, authorization string) *apitest.Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": viewerQuery})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return srv.Send(t, req)
}

// TestCredentials is the credential table: each way a bearer token or API
// key can be wrong is refused with 401, UNAUTHENTICATED and a reason,
// before anything touches tenant data; the right ones are accepted.
func TestCredentials(t *testing.T) {
	ctx := context.Background()
	tenant := apitest.Tenant("cred")
	rsa1, rsaOther := rsaKey(t), rsaKey(t)
	ec1, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks := newJWKS(t, rsaJWK("rsa-1", rsa1), ecJWK("ec-1", ec1))
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) {
		c.JWT = auth.JWTConfig{Secret: []byte(apitest.Secret), JWKSURL: jwks.URL, Issuer: issuer, Audience: audience,
			Leeway: 5 * time.Second, JWKSMinRefetch: time.Millisecond}
	})

	// API keys are minted over the owner connection, as the CLI does.
	owner, err := store.Open(ctx, apitest.DB(t).OwnerURL, store.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = owner.Close() })
	keys := apikey.NewStore(owner.Bun())
	mint := func(app string, scopes ...string) (string, *apikey.Key) {
		key, k, err := keys.Create(ctx, apikey.CreateRequest{Tenant: tenant, App: app, Scopes: scopes, TTL: time.Hour, CreatedBy: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return key, k
	}
	goodKey, goodRecord := mint("billing-app", auth.ScopeLicensesRead)
	revokedKey, revoked := mint("", auth.ScopeLicensesRead)
	if _, err := keys.Revoke(ctx, revoked.PublicID()); err != nil {
		t.Fatal(err)
	}
	expiredKey, expired := mint("", auth.ScopeLicensesRead)
	if _, err := apitest.DB(t).SQL(t).Exec("UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE id = $1", expired.ID); err != nil {
		t.Fatal(err)
	}
	wrongSecret := goodKey[:len(goodKey)-8] + "00000000"
	unknownKey, _ := mint("", auth.ScopeLicensesRead)
	if _, err := apitest.DB(t).SQL(t).Exec("DELETE FROM api_keys WHERE hash = sha256($1::bytea)", unknownKey); err != nil {
		t.Fatal(err)
	}

	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&rsa1.PublicKey))})
	valid := claims(tenant, nil)
	none := must(jwt.NewWithClaims(jwt.SigningMethodNone, valid).SignedString(jwt.UnsafeAllowNoneSignatureType))
	goodRS := sign(t, jwt.SigningMethodRS256, rsa1, "rsa-1", valid)
	parts := strings.Split(goodRS, ".")
	tampered := parts[0] + "." + b64(must(json.Marshal(claims("another-tenant", nil)))) + "." + parts[2]

	for _, tc := range []struct {
		name, header string
		reason       string // empty: accepted
		subject      string
	}{
		{"RS256 from the key set", "Bearer " + goodRS, "", "user-1"},
		{"ES256 from the key set", "Bearer " + sign(t, jwt.SigningMethodES256, ec1, "ec-1", valid), "", "user-1"},
		{"HS256 with the secret", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(apitest.Secret), "", valid), "", "user-1"},
		{"expired within the leeway", "Bearer " + sign(t, jwt.SigningMethodRS256, rsa1, "rsa-1",
			claims(tenant, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-2 * time.Second).Unix() })), "", "user-1"},
		{"API key", "ApiKey " + goodKey, "", goodRecord.PublicID()},

		{"expired", "Bearer " + sign(t, jwt.SigningMethodRS256, rsa1, "rsa-1",
			claims(tenant, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() })), "token has expired", ""},
		{"without exp", "Bearer " + sign(t, jwt.SigningMethodRS256, rsa1, "rsa-1",
			claims(tenant, func(c jwt.MapClaims) { delete(c, "exp") })), "required claim (exp)", ""},
		{"not yet valid", "Bearer " + sign(t, jwt.SigningMethodRS256, rsa1, "rsa-1",
			claims(tenant, func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() })), "not valid yet", ""},
		{"wrong issuer", "Bearer " + sign(t, jwt.SigningMethodRS256, rsa1, "rsa-1",
			claims(tenant, func(c jwt.MapClaims) { c["iss"] = "https://evil.example/" })), "wrong issuer", ""},
		{"wrong audience", "Bearer " + sign(t, jwt.SigningMethodRS256, rsa1, "rsa-1",
			claims(tenant, func(c jwt.MapClaims) { c["aud"] = "another-api" })), "wrong audience", ""},
		{"alg none", "Bearer " + none, "invalid token", ""},
		{"HS256 keyed with the RSA public key", "Bearer " + sign(t, jwt.SigningMethodHS256, rsaPEM, "rsa-1", valid), "invalid token", ""},
		{"HS256 with another secret", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte("not-the-secret-0123456789abcdefghij"), "", valid), "invalid token", ""},
		{"RS256 signed by another key", "Bearer " + sign(t, jwt.SigningMethodRS256, rsaOther, "rsa-1", valid), "invalid token", ""},
		{"ES256 naming an RSA key", "Bearer " + sign(t, jwt.SigningMethodES256, ec1, "rsa-1", valid), "invalid token", ""},
		{"RS512, not accepted", "Bearer " + sign(t, jwt.SigningMethodRS512, rsa1, "rsa-1", valid), "invalid token", ""},
		{"unknown kid", "Bearer " + sign(t, jwt.SigningMethodRS256, rsaOther, "rsa-unknown", valid), "invalid token", ""},
		{"no kid", "Bearer " + sign(t, jwt.SigningMethodRS256, rsa1, "", valid), "invalid token", ""},
		{"tampered claims", "Bearer " + tampered, "invalid token", ""},
		{"no tenant claim", "Bearer " + sign(t, jwt.SigningMethodRS256, rsa1, "rsa-1",
			claims(tenant, func(c jwt.MapClaims) { delete(c, "tenant_id") })), "tenant_id", ""},
		{"not a JWT", "Bearer not-a-token", "malformed token", ""},
		{"Basic credentials", "Basic dXNlcjpwYXNz", `"Bearer <token>" or "ApiKey <key>"`, ""},
		{"Bearer without a token", "Bearer ", `"Bearer <token>" or "ApiKey <key>"`, ""},
		{"revoked API key", "ApiKey " + revokedKey, "API key has been revoked", ""},
		{"expired API key", "ApiKey " + expiredKey, "API key has expired", ""},
		{"API key with a wrong secret", "ApiKey " + wrongSecret, "unknown API key", ""},
		{"deleted API key", "ApiKey " + unknownKey, "unknown API key", ""},
		{"malformed API key", "ApiKey sgk_nope", "malformed API key", ""},
		{"JWT sent as an API key", "ApiKey " + goodRS, "malformed API key", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := srv.DB.Statements()
			r := call(t, srv, tc.header)
			statements := srv.DB.Statements() - before
			if tc.reason == "" {
				if r.Status != http.StatusOK || len(r.Errors) > 0 {
					t.Fatalf("refused (%d): %s", r.Status, r.Raw)
				}
				v := r.Data["viewer"].(map[string]any)
				if v["tenantId"] != tenant || v["subject"] != tc.subject {
					t.Errorf("viewer %v, want tenant %s and subject %s", v, tenant, tc.subject)
				}
				return
			}
			if r.Status != http.StatusUnauthorized || !slices.Equal(r.Codes(), []string{"UNAUTHENTICATED"}) ||
				!strings.Contains(r.Errors[0].Message, tc.reason) {
				t.Errorf("got %d %s, want 401 UNAUTHENTICATED saying %q", r.Status, r.Raw, tc.reason)
			}
			if r.Data != nil || strings.Contains(string(r.Raw), `"data"`) {
				t.Errorf("a refused request has data: %s", r.Raw)
			}
			if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
			}
			// Only an API key lookup may reach the database; no tenant data is read.
			if limit := int64(map[bool]int{true: 1}[strings.HasPrefix(tc.header, "ApiKey")]); statements > limit {
				t.Errorf("%d statements ran for a refused credential", statements)
			}
		})
	}

	t.Run("an API key carries its app and scopes, and records its use", func(t *testing.T) {
		r := call(t, srv, "ApiKey "+goodKey)
		v := r.Data["viewer"].(map[string]any)
		if v["appId"] != "billing-app" || !slices.Equal(v["scopes"].([]any), []any{auth.ScopeLicensesRead}) {
			t.Errorf("viewer %v, want app billing-app and only %s", v, auth.ScopeLicensesRead)
		}
		var used bool
		if err := apitest.DB(t).SQL(t).QueryRow("SELECT last_used_at IS NOT NULL FROM api_keys WHERE id = $1",
			goodRecord.ID).Scan(&used); err != nil || !used {
			t.Errorf("last_used_at not set (%v)", err)
		}
	})
}

// TestAppBoundAPIKey: an API key bound to an app reads only the records of
// that app, like an app-scoped token.
func TestAppBoundAPIKey(t *testing.T) {
	ctx := context.Background()
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("appkey")
	f := apitest.NewFixture(t, srv.DB, tenant)
	crm, other := f.License("CRM seats", 5), f.License("Other seats", 5)
	f.License("Nobody's seats", 5)
	super := apitest.DB(t).SQL(t)
	for app, id := range map[string]any{"crm": crm.ID, "erp": other.ID} {
		if _, err := super.Exec("UPDATE licenses SET app_id = $1 WHERE tenant_id = $2 AND id = $3", app, tenant, id); err != nil {
			t.Fatal(err)
		}
	}
	owner, err := store.Open(ctx, apitest.DB(t).OwnerURL, store.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = owner.Close() })
	key, _, err := apikey.NewStore(owner.Bun()).Create(ctx, apikey.CreateRequest{Tenant: tenant, App: "crm",
		Scopes: []string{auth.ScopeLicensesRead}, CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"query": `{ licenses { totalCount nodes { name appId } } }`})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "ApiKey "+key)
	r := srv.Send(t, req)
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	nodes := r.Data["licenses"].(map[string]any)["nodes"].([]any)
	if len(nodes) != 1 || nodes[0].(map[string]any)["name"] != "CRM seats" {
		t.Errorf("an API key of app crm sees %v, want only CRM seats", nodes)
	}
}

// TestJWKSRotation: a token signed with a key published after the server
// fetched the key set is accepted (the unknown kid makes it fetch again),
// and a key removed from the set is refused from then on.
func TestJWKSRotation(t *testing.T) {
	tenant := apitest.Tenant("rotate")
	oldKey, newKey := rsaKey(t), rsaKey(t)
	jwks := newJWKS(t, rsaJWK("2026-01", oldKey))
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) {
		c.JWT = auth.JWTConfig{JWKSURL: jwks.URL, JWKSMinRefetch: time.Millisecond}
	})
	oldToken := sign(t, jwt.SigningMethodRS256, oldKey, "2026-01", claims(tenant, nil))
	newToken := sign(t, jwt.SigningMethodRS256, newKey, "2026-02", claims(tenant, nil))

	if r := call(t, srv, "Bearer "+oldToken); r.Status != http.StatusOK {
		t.Fatalf("old key before rotation: %d %s", r.Status, r.Raw)
	}
	if r := call(t, srv, "Bearer "+newToken); r.Status != http.StatusUnauthorized {
		t.Fatalf("new key before it is published: %d %s", r.Status, r.Raw)
	}
	jwks.publish(rsaJWK("2026-02", newKey))
	time.Sleep(5 * time.Millisecond) // let the refetch limiter refill
	if r := call(t, srv, "Bearer "+newToken); r.Status != http.StatusOK {
		t.Fatalf("new key after rotation: %d %s", r.Status, r.Raw)
	}
	if r := call(t, srv, "Bearer "+oldToken); r.Status != http.StatusUnauthorized {
		t.Fatalf("retired key after rotation: %d %s", r.Status, r.Raw)
	}
}

// TestJWKSRefetchIsRateLimited: tokens with made-up kids cannot make the
// server hammer the identity provider, nor wait for it.
func TestJWKSRefetchIsRateLimited(t *testing.T) {
	tenant := apitest.Tenant("kids")
	key := rsaKey(t)
	jwks := newJWKS(t, rsaJWK("real", key))
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) {
		c.JWT = auth.JWTConfig{JWKSURL: jwks.URL, JWKSMinRefetch: time.Hour}
	})
	start := time.Now()
	for i := range 10 {
		kid := "made-up-" + string(rune('a'+i))
		if r := call(t, srv, "Bearer "+sign(t, jwt.SigningMethodRS256, key, kid, claims(tenant, nil))); r.Status != http.StatusUnauthorized {
			t.Fatalf("kid %s: %d %s", kid, r.Status, r.Raw)
		}
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("10 unknown kids took %s", elapsed)
	}
	if n := jwks.fetch.Load(); n != 2 {
		t.Errorf("the key set was fetched %d times, want 2 (at start, then once for unknown kids)", n)
	}
	if r := call(t, srv, "Bearer "+sign(t, jwt.SigningMethodRS256, key, "real", claims(tenant, nil))); r.Status != http.StatusOK {
		t.Errorf("a good token after the burst: %d %s", r.Status, r.Raw)
	}
}

// TestScopes: valid credentials without the scope a field needs get
// FORBIDDEN naming the scope, and the field's resolver never runs.
func TestScopes(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("scopes")
	f := apitest.NewFixture(t, srv.DB, tenant)
	f.Assign(f.License("Licensed", 5), f.Person("someone@scopes.example"))
	directoryOnly := apitest.Token(t, tenant, auth.ScopeDirectoryRead)
	readers := apitest.Token(t, tenant, auth.ScopeLicensesRead, auth.ScopeDirectoryRead)

	for _, tc := range []struct {
		name, token, query, scope string
	}{
		{"licenses without licenses:read", directoryOnly, `{ licenses { totalCount } }`, `"licenses:read"`},
		{"assignments without licenses:read", directoryOnly, `{ assignments { nodes { id } } }`, `"licenses:read"`},
		{"includeDeleted without admin", readers, `{ licenses(filter: {includeDeleted: true}) { totalCount } }`, "admin"},
		{"people without directory:read", apitest.Token(t, tenant, auth.ScopeLicensesRead), `{ people { totalCount } }`, `"directory:read"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := srv.DB.Statements()
			r := srv.Do(t, tc.token, tc.query, nil)
			if r.Status != http.StatusOK || !slices.Equal(r.Codes(), []string{"FORBIDDEN"}) ||
				!strings.Contains(r.Errors[0].Message, tc.scope) {
				t.Errorf("got %d %s, want FORBIDDEN naming %s", r.Status, r.Raw, tc.scope)
			}
			if n := srv.DB.Statements() - before; n != 0 {
				t.Errorf("%d statements ran for a forbidden field", n)
			}
		})
	}

	t.Run("mutations without their scope change nothing", func(t *testing.T) {
		db := apitest.DB(t).SQL(t)
		digest := func() string {
			var d string
			if err := db.QueryRow(`SELECT md5(coalesce((SELECT string_agg(l::text, ',' ORDER BY id) FROM licenses l WHERE tenant_id = $1), '') ||
				coalesce((SELECT string_agg(a::text, ',' ORDER BY id) FROM assignments a WHERE tenant_id = $1), ''))`, tenant).Scan(&d); err != nil {
				t.Fatal(err)
			}
			return d
		}
		writer := apitest.Token(t, tenant, auth.ScopeLicensesRead, auth.ScopeLicensesWrite, auth.ScopeDirectoryRead)
		for _, tc := range []struct {
			name, token, query, scope string
		}{
			{"createLicense without licenses:write", readers,
				`mutation { createLicense(input: {name: "Planted", totalSeats: 1}) { license { id } userErrors { code } } }`, `"licenses:write"`},
			{"reclaimUnusedSeats without admin", writer,
				`mutation { reclaimUnusedSeats(input: {unusedSince: "2100-01-01T00:00:00Z"}) { count userErrors { code } } }`, `"admin"`},
			{"recordUsage without usage:write", writer,
				`mutation { recordUsage(input: {licenseId: "lic_01h455vb4pex5vsknk084sn02q", personId: "per_01h455vb4pex5vsknk084sn02q"}) { updated } }`, `"usage:write"`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before, statements := digest(), srv.DB.Statements()
				r := srv.Do(t, tc.token, tc.query, nil)
				if !slices.Equal(r.Codes(), []string{"FORBIDDEN"}) || !strings.Contains(r.Errors[0].Message, tc.scope) {
					t.Errorf("got %d %s, want FORBIDDEN naming %s", r.Status, r.Raw, tc.scope)
				}
				if n := srv.DB.Statements() - statements; n != 0 {
					t.Errorf("%d statements ran for a forbidden mutation", n)
				}
				if digest() != before {
					t.Error("the forbidden mutation changed the tenant's licenses or assignments")
				}
			})
		}
		r := srv.Do(t, "", `mutation { createLicense(input: {name: "Planted"}) { license { id } } }`, nil)
		if r.Status != http.StatusUnauthorized || !slices.Equal(r.Codes(), []string{"UNAUTHENTICATED"}) {
			t.Errorf("a mutation without credentials: %d %s, want 401 UNAUTHENTICATED", r.Status, r.Raw)
		}
	})

	t.Run("a nested field without its scope is refused alone", func(t *testing.T) {
		r := srv.Do(t, directoryOnly, `{ people { nodes { email assignments { totalCount } } } }`, nil)
		if len(r.Errors) == 0 || r.Codes()[0] != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, `"licenses:read"`) {
			t.Fatalf("got %s, want FORBIDDEN for Person.assignments", r.Raw)
		}
		if r.Errors[0].Path[len(r.Errors[0].Path)-1] != "assignments" {
			t.Errorf("error path %v, want one ending at assignments", r.Errors[0].Path)
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestRememberedTokenExpires: a token the server has verified (and
// remembers, so as not to verify it on every request) is still refused
// from the moment it expires.
func TestRememberedTokenExpires(t *testing.T) {
	tenant := apitest.Tenant("remember")
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) {
		c.JWT = auth.JWTConfig{Secret: []byte(apitest.Secret)}
	})
	exp := time.Now().Add(2 * time.Second).Truncate(time.Second)
	token := sign(t, jwt.SigningMethodHS256, []byte(apitest.Secret), "", claims(tenant, func(c jwt.MapClaims) {
		c["exp"] = exp.Unix()
	}))
	for i := range 2 {
		if r := call(t, srv, "Bearer "+token); r.Status != http.StatusOK {
			t.Fatalf("call %d before exp: %d %s", i, r.Status, r.Raw)
		}
	}
	time.Sleep(time.Until(exp.Add(100 * time.Millisecond)))
	r := call(t, srv, "Bearer "+token)
	if r.Status != http.StatusUnauthorized || !strings.Contains(string(r.Raw), "token has expired") {
		t.Fatalf("after exp: %d %s, want 401 token has expired", r.Status, r.Raw)
	}
}

// TestJWKSKeyReplaced: a key set that replaces a key under the same kid
// refuses the tokens the old key signed, even one the server has verified
// (and remembers) before.
func TestJWKSKeyReplaced(t *testing.T) {
	tenant := apitest.Tenant("replace")
	oldKey, newKey := rsaKey(t), rsaKey(t)
	jwks := newJWKS(t, rsaJWK("k1", oldKey))
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) {
		c.JWT = auth.JWTConfig{JWKSURL: jwks.URL, JWKSRefresh: 50 * time.Millisecond}
	})
	token := sign(t, jwt.SigningMethodRS256, oldKey, "k1", claims(tenant, nil))
	for i := range 2 {
		if r := call(t, srv, "Bearer "+token); r.Status != http.StatusOK {
			t.Fatalf("call %d before the key is replaced: %d %s", i, r.Status, r.Raw)
		}
	}
	jwks.publish(rsaJWK("k1", newKey))
	for seen := jwks.fetch.Load(); jwks.fetch.Load() < seen+2; {
		time.Sleep(10 * time.Millisecond) // until the server has fetched the new set
	}
	if r := call(t, srv, "Bearer "+token); r.Status != http.StatusUnauthorized {
		t.Fatalf("the replaced key's token: %d %s, want 401", r.Status, r.Raw)
	}
	if r := call(t, srv, "Bearer "+sign(t, jwt.SigningMethodRS256, newKey, "k1", claims(tenant, nil))); r.Status != http.StatusOK {
		t.Fatalf("the new key's token: %d %s", r.Status, r.Raw)
	}
}

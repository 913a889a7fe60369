package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const fuzzSecret = "fuzz-secret-0123456789abcdef0123456789"

// FuzzParseAuthorization feeds arbitrary Authorization headers to the
// parser: it must never panic, must refuse with a CredentialError, and
// what it accepts must be one of the two schemes with a single, bounded
// credential.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{"Bearer abc.def.ghi", "bearer x", "ApiKey sgk_x", "APIKEY k", "Basic dXNlcjpwYXNz",
		"Bearer", "Bearer ", "Bearer  a b", " Bearer a", "Bearer\ta", "ApiKey a\nb", "", "\x00 \x00",
		"Bearer " + strings.Repeat("a", maxCredentialLen+1)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		c, err := ParseAuthorization(header)
		if err != nil {
			var ce *CredentialError
			if !errors.As(err, &ce) || !errors.Is(err, ErrUnauthenticated) || ce.Reason == "" {
				t.Fatalf("ParseAuthorization(%q) = %v, want a CredentialError", header, err)
			}
			return
		}
		if c.Scheme != SchemeBearer && c.Scheme != SchemeAPIKey {
			t.Fatalf("ParseAuthorization(%q) gave scheme %q", header, c.Scheme)
		}
		if c.Value == "" || len(c.Value) > maxCredentialLen || strings.ContainsAny(c.Value, " \t\r\n") {
			t.Fatalf("ParseAuthorization(%q) gave credential %q", header, c.Value)
		}
	})
}

// FuzzVerify feeds arbitrary bearer tokens to an HS256 verifier: it must
// never panic, must refuse with a CredentialError, and must accept only
// tokens that carry a subject and a tenant and are signed with the secret.
func FuzzVerify(f *testing.F) {
	cfg := JWTConfig{Secret: []byte(fuzzSecret)}
	v, err := NewVerifier(context.Background(), cfg)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := Mint(cfg, TokenRequest{Tenant: "t", Subject: "s", Scopes: AllScopes, TTL: time.Hour})
	expired, _ := Mint(cfg, TokenRequest{Tenant: "t", Subject: "s", TTL: -time.Hour})
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "s", "tenant_id": "t",
		"exp": time.Now().Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	other, _ := Mint(JWTConfig{Secret: []byte("another-secret-0123456789abcdef0123")},
		TokenRequest{Tenant: "t", Subject: "s", TTL: time.Hour})
	for _, s := range []string{good, expired, none, other, "", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.", good + "x",
		strings.Replace(good, ".", "..", 1)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		p, err := v.Verify(context.Background(), token)
		if err != nil {
			if !errors.Is(err, ErrUnauthenticated) || p != nil {
				t.Fatalf("Verify(%q) = %v, %v; want a CredentialError and no principal", token, p, err)
			}
			return
		}
		if p.Subject == "" || p.TenantID == "" {
			t.Fatalf("Verify(%q) accepted a principal without subject or tenant: %+v", token, p)
		}
		parsed, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return []byte(fuzzSecret), nil },
			jwt.WithValidMethods([]string{"HS256"}))
		if err != nil || !parsed.Valid {
			t.Fatalf("Verify accepted %q, which is not signed with the secret: %v", token, err)
		}
	})
}

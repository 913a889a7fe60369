package auth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"seatgraph/internal/store"
)

// JWTConfig says how bearer tokens are verified. At least one of Secret
// and JWKSURL must be set; each enables only its own algorithms.
type JWTConfig struct {
	// Secret is the HS256 key; when empty, HS256 tokens are refused.
	Secret []byte
	// JWKSURL is where the RS256 and ES256 public keys are published;
	// when empty, RS256 and ES256 tokens are refused.
	JWKSURL string
	// JWKSRefresh is how often the key set is fetched again (default 1h).
	JWKSRefresh time.Duration
	// JWKSMinRefetch is the shortest time between two fetches caused by a
	// token whose kid is not in the key set (default 1m), so that tokens
	// with made-up kids cannot hammer the identity provider.
	JWKSMinRefetch time.Duration
	// HTTPClient fetches the key set (default: a client with a 10s timeout).
	HTTPClient *http.Client

	Issuer      string
	Audience    string
	TenantClaim string
	AppClaim    string
	// Leeway is the clock skew tolerated on exp and nbf.
	Leeway time.Duration
}

// The algorithms accepted, each pinned to one kind of key: HS256 only
// ever verifies with the secret, RS256 only with an RSA key of the key
// set and ES256 only with a P-256 key, so no token can choose to be
// checked with a key meant for another algorithm ("none" is never valid).
const (
	algHS256 = "HS256"
	algRS256 = "RS256"
	algES256 = "ES256"
)

// minRSABits is the smallest RSA modulus accepted from the key set.
const minRSABits = 2048

// Verifier checks bearer tokens.
type Verifier struct {
	cfg    JWTConfig
	parser *jwt.Parser
	jwks   keyfunc.Keyfunc
	// verified are tokens whose signature and claims were checked, so
	// that a client sending one token on every request is not parsed and
	// verified again each time (verifiedToken).
	verified *lru.Cache[string, *verifiedToken]
}

// verifiedCacheSize is how many verified tokens a Verifier remembers (the
// least recently used is forgotten first). Only tokens that passed every
// check are remembered, so made-up tokens cannot push real ones out.
const verifiedCacheSize = 4096

// verifiedToken is a token that passed Verify. A token's signature and its
// claims never change, so what can make it fail later is time and its
// key: each use checks its nbf and exp again against the clock, and a
// token signed by a key set's key again looks up its kid in the current
// key set and must find the same key (a key removed or replaced refuses
// it from then on, as a first check would).
type verifiedToken struct {
	principal Principal
	notBefore time.Time // nbf less the leeway; zero without nbf
	header    map[string]any
	method    jwt.SigningMethod
	key       any
}

// NewVerifier makes a Verifier for cfg. With a JWKS URL it starts fetching
// the key set in the background until ctx ends; a key set that cannot be
// fetched at start is not fatal (tokens fail until it can be).
func NewVerifier(ctx context.Context, cfg JWTConfig) (*Verifier, error) {
	if cfg.TenantClaim == "" {
		cfg.TenantClaim = "tenant_id"
	}
	if cfg.AppClaim == "" {
		cfg.AppClaim = "app_id"
	}
	v := &Verifier{cfg: cfg}
	var methods []string
	if len(cfg.Secret) > 0 {
		methods = append(methods, algHS256)
	}
	if cfg.JWKSURL != "" {
		methods = append(methods, algRS256, algES256)
		jwks, err := newJWKS(ctx, cfg)
		if err != nil {
			return nil, err
		}
		v.jwks = jwks
	}
	if len(methods) == 0 {
		return nil, errors.New("auth: a JWT secret or a JWKS URL is required")
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(methods),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(cfg.Leeway),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	v.parser = jwt.NewParser(opts...)
	v.verified, _ = lru.New[string, *verifiedToken](verifiedCacheSize)
	return v, nil
}

func newJWKS(ctx context.Context, cfg JWTConfig) (keyfunc.Keyfunc, error) {
	refresh := cfg.JWKSRefresh
	if refresh <= 0 {
		refresh = time.Hour
	}
	minRefetch := cfg.JWKSMinRefetch
	if minRefetch <= 0 {
		minRefetch = time.Minute
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{cfg.JWKSURL}, keyfunc.Override{
		Client:          client,
		RefreshInterval: refresh,
		// One refetch per minRefetch for unknown kids; a request that
		// finds the limiter spent fails at once instead of queueing (the
		// limiter refuses at once a wait longer than this). 1 ms was too
		// short: a busy process can be descheduled that long between
		// making the deadline and asking the limiter, and then even an
		// available refetch was refused.
		RefreshUnknownKID: rate.NewLimiter(rate.Every(minRefetch), 1),
		RateLimitWaitMax:  100 * time.Millisecond,
	})
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS %s: %w", cfg.JWKSURL, err)
	}
	return kf, nil
}

// Verify checks a bearer token and returns its principal. Every failure
// is a *CredentialError.
func (v *Verifier) Verify(ctx context.Context, token string) (*Principal, error) {
	if t, ok := v.verified.Get(token); ok {
		if p := v.stillValid(ctx, t); p != nil {
			return p, nil
		}
		v.verified.Remove(token) // and check it in full: the reason is its own
	}
	claims := jwt.MapClaims{}
	var key any
	keyFor := v.keyFor(ctx)
	parsed, err := v.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		k, err := keyFor(t)
		key = k
		return k, err
	})
	if err != nil {
		return nil, refuseToken(err)
	}
	p, err := v.principal(claims)
	if err != nil {
		return nil, err
	}
	t := &verifiedToken{principal: *p, header: parsed.Header, method: parsed.Method, key: key}
	if nbf, err := claims.GetNotBefore(); err == nil && nbf != nil {
		t.notBefore = nbf.Add(-v.cfg.Leeway)
	}
	v.verified.Add(token, t)
	return p, nil
}

// stillValid returns the principal of a token verified before when it is
// still valid now (see verifiedToken), nil when it must be checked in
// full.
func (v *Verifier) stillValid(ctx context.Context, t *verifiedToken) *Principal {
	now := time.Now()
	if !now.Before(t.principal.Until) || now.Before(t.notBefore) {
		return nil
	}
	key, err := v.keyFor(ctx)(&jwt.Token{Header: t.header, Method: t.method})
	if err != nil || !sameKey(key, t.key) {
		return nil
	}
	p := t.principal
	return &p
}

// sameKey reports whether a and b are the same verification key.
func sameKey(a, b any) bool {
	switch a := a.(type) {
	case []byte:
		b, ok := b.([]byte)
		return ok && bytes.Equal(a, b)
	case interface{ Equal(crypto.PublicKey) bool }:
		return a.Equal(b)
	}
	return false
}

// principal reads the principal of a token's verified claims.
func (v *Verifier) principal(claims jwt.MapClaims) (*Principal, error) {
	p := &Principal{}
	p.Subject, _ = claims["sub"].(string)
	p.TenantID, _ = claims[v.cfg.TenantClaim].(string)
	if p.Subject == "" || p.TenantID == "" {
		return nil, refused("token needs the sub and "+v.cfg.TenantClaim+" claims",
			errors.New("claims missing"))
	}
	if err := store.CheckTenantID(p.TenantID); err != nil {
		return nil, refused("token's "+v.cfg.TenantClaim+" claim is invalid: "+err.Error(), err)
	}
	if app, _ := claims[v.cfg.AppClaim].(string); app != "" {
		if err := store.CheckAppID(app); err != nil {
			return nil, refused("token's "+v.cfg.AppClaim+" claim is invalid: "+err.Error(), err)
		}
		p.AppID = &app
	}
	p.Scopes = scopes(claims)
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
		p.Until = exp.Add(v.cfg.Leeway)
	}
	return p, nil
}

// keyFor returns the key a token of its algorithm must be signed with.
func (v *Verifier) keyFor(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		alg := t.Method.Alg()
		switch alg {
		case algHS256:
			if len(v.cfg.Secret) == 0 {
				return nil, errors.New("HS256 is not accepted")
			}
			return v.cfg.Secret, nil
		case algRS256, algES256:
			if v.jwks == nil {
				return nil, fmt.Errorf("%s is not accepted", alg)
			}
			if kid, _ := t.Header["kid"].(string); kid == "" {
				return nil, errors.New("token has no kid")
			}
			key, err := v.jwks.KeyfuncCtx(ctx)(t)
			if err != nil {
				return nil, err
			}
			return pinKey(alg, key)
		}
		return nil, fmt.Errorf("%s is not accepted", alg)
	}
}

// pinKey returns key if it is the kind alg must be verified with.
func pinKey(alg string, key any) (any, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if alg == algRS256 && k.N.BitLen() >= minRSABits {
			return k, nil
		}
	case *ecdsa.PublicKey:
		if alg == algES256 && k.Curve == elliptic.P256() {
			return k, nil
		}
	}
	return nil, fmt.Errorf("key of type %T cannot verify %s", key, alg)
}

// refuseToken turns a parse failure into a CredentialError whose reason
// helps a legitimate caller without helping a forger.
func refuseToken(err error) error {
	reason := "invalid token"
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		reason = "malformed token"
	case errors.Is(err, jwt.ErrTokenExpired):
		reason = "token has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		reason = "token is not valid yet"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		reason = "token has the wrong issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		reason = "token has the wrong audience"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		reason = "token lacks a required claim (exp)"
	}
	return refused(reason, err)
}

// scopes reads "scope" (space-separated) or "scp" (a list or a string).
func scopes(c jwt.MapClaims) []string {
	if s, ok := c["scope"].(string); ok {
		return strings.Fields(s)
	}
	switch s := c["scp"].(type) {
	case string:
		return strings.Fields(s)
	case []any:
		out := make([]string, 0, len(s))
		for _, v := range s {
			if str, ok := v.(string); ok {
				out = append(out, str)
			}
		}
		return out
	}
	return nil
}

// TokenRequest describes a development token.
type TokenRequest struct {
	Tenant  string
	Subject string
	App     string
	Scopes  []string
	TTL     time.Duration
}

// Mint signs a token for r with cfg's secret, issuer and audience.
func Mint(cfg JWTConfig, r TokenRequest) (string, error) {
	if cfg.TenantClaim == "" {
		cfg.TenantClaim = "tenant_id"
	}
	if cfg.AppClaim == "" {
		cfg.AppClaim = "app_id"
	}
	now := time.Now()
	claims := jwt.MapClaims{
		"sub":           r.Subject,
		cfg.TenantClaim: r.Tenant,
		"scope":         strings.Join(r.Scopes, " "),
		"iat":           now.Unix(),
		"exp":           now.Add(r.TTL).Unix(),
	}
	if r.App != "" {
		claims[cfg.AppClaim] = r.App
	}
	if cfg.Issuer != "" {
		claims["iss"] = cfg.Issuer
	}
	if cfg.Audience != "" {
		claims["aud"] = cfg.Audience
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(cfg.Secret)
}

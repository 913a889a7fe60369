package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JWTConfig says how bearer tokens are verified.
type JWTConfig struct {
	// Secret is the HS256 key.
	Secret      []byte
	Issuer      string
	Audience    string
	TenantClaim string
	AppClaim    string
	// Leeway is the clock skew tolerated on exp and nbf.
	Leeway time.Duration
}

// ErrUnauthenticated is wrapped by every credential failure.
var ErrUnauthenticated = errors.New("unauthenticated")

// Verifier checks bearer tokens.
type Verifier struct {
	cfg    JWTConfig
	parser *jwt.Parser
}

// NewVerifier makes a Verifier for cfg.
func NewVerifier(cfg JWTConfig) *Verifier {
	if cfg.TenantClaim == "" {
		cfg.TenantClaim = "tenant_id"
	}
	if cfg.AppClaim == "" {
		cfg.AppClaim = "app_id"
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(cfg.Leeway),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	return &Verifier{cfg: cfg, parser: jwt.NewParser(opts...)}
}

// Verify checks a bearer token and returns its principal.
func (v *Verifier) Verify(token string) (*Principal, error) {
	claims := jwt.MapClaims{}
	_, err := v.parser.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return v.cfg.Secret, nil })
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	p := &Principal{}
	p.Subject, _ = claims["sub"].(string)
	p.TenantID, _ = claims[v.cfg.TenantClaim].(string)
	if p.Subject == "" || p.TenantID == "" {
		return nil, fmt.Errorf("%w: token needs the sub and %s claims", ErrUnauthenticated, v.cfg.TenantClaim)
	}
	if app, _ := claims[v.cfg.AppClaim].(string); app != "" {
		p.AppID = &app
	}
	p.Scopes = scopes(claims)
	return p, nil
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

// Package auth turns credentials into a Principal: who is calling, for
// which tenant (and app), with which scopes.
package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The scopes of SPEC §4. Admin grants every other scope too.
const (
	ScopeLicensesRead   = "licenses:read"
	ScopeLicensesWrite  = "licenses:write"
	ScopeDirectoryRead  = "directory:read"
	ScopeDirectoryWrite = "directory:write"
	ScopeUsageWrite     = "usage:write"
	// ScopeSCIM lets an identity provider provision people and groups
	// through /scim/v2 (and nothing else).
	ScopeSCIM  = "scim"
	ScopeAdmin = "admin"
)

// AllScopes lists every scope, for development tokens.
var AllScopes = []string{ScopeLicensesRead, ScopeLicensesWrite, ScopeDirectoryRead,
	ScopeDirectoryWrite, ScopeUsageWrite, ScopeSCIM, ScopeAdmin}

// KnownScope reports whether s is one of AllScopes.
func KnownScope(s string) bool { return slices.Contains(AllScopes, s) }

// CheckScopes refuses an empty list and any scope not in AllScopes: the
// one check behind every credential the CLI mints (tokens and API keys).
func CheckScopes(scopes []string) error {
	if len(scopes) == 0 {
		return errors.New("at least one scope is required")
	}
	for _, sc := range scopes {
		if !KnownScope(sc) {
			return fmt.Errorf("unknown scope %q (known: %s)", sc, strings.Join(AllScopes, " "))
		}
	}
	return nil
}

// Principal is the verified identity behind a request.
type Principal struct {
	TenantID string
	// AppID is set when the caller is an application; its reads are
	// limited to records of that app.
	AppID   *string
	Subject string
	Scopes  []string
	// Until is when the credentials stop being accepted (a token's exp
	// plus the tolerated clock skew); zero when they do not lapse by
	// themselves (an API key, until it is revoked). Streams end then.
	Until time.Time
}

// Has reports whether p holds scope (admin holds them all).
func (p *Principal) Has(scope string) bool {
	return p != nil && (slices.Contains(p.Scopes, scope) || slices.Contains(p.Scopes, ScopeAdmin))
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the request's principal, or nil when the request
// carried no credentials.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

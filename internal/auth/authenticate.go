package auth

import (
	"context"
	"errors"
	"strings"
)

// ErrUnauthenticated is matched (errors.Is) by every credential failure.
var ErrUnauthenticated = errors.New("unauthenticated")

// CredentialError is a refused credential. Reason is safe to show the
// caller; Err is the detail for the logs.
type CredentialError struct {
	Reason string
	Err    error
}

func (e *CredentialError) Error() string { return e.Reason + ": " + e.Err.Error() }

// Unwrap returns the underlying failure.
func (e *CredentialError) Unwrap() error { return e.Err }

// Is makes every CredentialError match ErrUnauthenticated.
func (e *CredentialError) Is(target error) bool { return target == ErrUnauthenticated }

func refused(reason string, err error) *CredentialError {
	return &CredentialError{Reason: reason, Err: err}
}

// Reason is the caller-facing reason of a credential failure.
func Reason(err error) string {
	var ce *CredentialError
	if errors.As(err, &ce) {
		return ce.Reason
	}
	return "invalid credentials"
}

// The Authorization schemes seatgraph accepts.
const (
	SchemeBearer = "Bearer"
	SchemeAPIKey = "ApiKey"
)

// maxCredentialLen bounds the credential in an Authorization header; real
// tokens are far smaller, and nothing longer is ever parsed.
const maxCredentialLen = 8 << 10

// Credential is a parsed Authorization header.
type Credential struct {
	Scheme string // SchemeBearer or SchemeAPIKey
	Value  string
}

// ParseAuthorization reads "Bearer <jwt>" or "ApiKey <key>" (scheme names
// are case-insensitive). Anything else is a CredentialError.
func ParseAuthorization(header string) (Credential, error) {
	scheme, value, ok := strings.Cut(header, " ")
	value = strings.TrimSpace(value)
	if !ok || value == "" || strings.ContainsAny(value, " \t\r\n") {
		return Credential{}, refused(`Authorization must be "Bearer <token>" or "ApiKey <key>"`,
			errors.New("malformed Authorization header"))
	}
	if len(value) > maxCredentialLen {
		return Credential{}, refused("credential is too long", errors.New("oversized credential"))
	}
	switch {
	case strings.EqualFold(scheme, SchemeBearer):
		return Credential{Scheme: SchemeBearer, Value: value}, nil
	case strings.EqualFold(scheme, SchemeAPIKey):
		return Credential{Scheme: SchemeAPIKey, Value: value}, nil
	}
	return Credential{}, refused(`Authorization must be "Bearer <token>" or "ApiKey <key>"`,
		errors.New("unknown Authorization scheme"))
}

// KeyChecker verifies API keys (implemented by the apikey package).
type KeyChecker interface {
	CheckKey(ctx context.Context, key string) (*Principal, error)
}

// Authenticator turns an Authorization header into a Principal, using JWT
// for Bearer credentials and Keys for ApiKey credentials.
type Authenticator struct {
	JWT  *Verifier
	Keys KeyChecker
}

// Authenticate checks the Authorization header value. Every failure is a
// *CredentialError.
func (a *Authenticator) Authenticate(ctx context.Context, header string) (*Principal, error) {
	cred, err := ParseAuthorization(header)
	if err != nil {
		return nil, err
	}
	switch {
	case cred.Scheme == SchemeBearer && a.JWT != nil:
		return a.JWT.Verify(ctx, cred.Value)
	case cred.Scheme == SchemeAPIKey && a.Keys != nil:
		return a.Keys.CheckKey(ctx, cred.Value)
	}
	return nil, refused(cred.Scheme+" credentials are not accepted", errors.New("scheme not configured"))
}

// Refused wraps err as a CredentialError with a caller-facing reason; for
// KeyChecker implementations.
func Refused(reason string, err error) error { return refused(reason, err) }

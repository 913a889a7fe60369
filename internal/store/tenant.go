package store

import (
	"errors"
	"regexp"
	"strings"
	"unicode"
)

// ErrBadTenant is matched (errors.Is) by every id CheckTenantID or
// CheckAppID refuses.
var ErrBadTenant = errors.New("bad tenant or app id")

// badID is a refused id; its message is fit for the caller.
type badID string

func (e badID) Error() string      { return string(e) }
func (badID) Is(target error) bool { return target == ErrBadTenant }

// tenantID is the form of a tenant id: 1 to 128 ASCII letters, digits and
// . _ : @ - (enough for slugs, UUIDs, domains and "org:env" pairs). Tenant
// ids come from credentials (a JWT claim, an API key's row, the CLI's
// --tenant) and end up in SQL text (the tenant setting) and in logs and
// metric labels, so no quote, backslash, space, control character or NUL
// can be one.
var tenantID = regexp.MustCompile(`^[A-Za-z0-9._:@-]{1,128}$`)

// CheckTenantID refuses a tenant id outside the documented form, saying
// why in words fit for the caller. Every way a tenant id enters the
// server goes through it (auth, apikey, the CLI and the store itself).
func CheckTenantID(id string) error {
	switch {
	case id == "":
		return badID("tenant id is empty")
	case len(id) > 128:
		return badID("tenant id is longer than 128 characters")
	case !tenantID.MatchString(id):
		return badID("tenant id may hold only ASCII letters, digits and . _ : @ -")
	}
	return nil
}

// SetTenantSQL is the statement that sets, for the rest of a transaction,
// the tenant row-level security sees: SET LOCAL rather than set_config,
// because Citus passes SET LOCAL on to the workers (with
// citus.propagate_set_commands = 'local', see docs/scale-out.md). The id
// must have passed CheckTenantID; it is quoted all the same.
func SetTenantSQL(id string) string {
	return "SET LOCAL app.tenant_id = '" + strings.ReplaceAll(id, "'", "''") + "'"
}

// CheckAppID refuses an application id that no column could hold safely:
// empty, longer than 128 bytes, or holding a control character or NUL.
// (App ids are an identity provider's client ids, whose forms vary, so the
// character set is not narrowed further; bun quotes them.)
func CheckAppID(id string) error {
	switch {
	case id == "" || len(id) > 128:
		return badID("app id must be 1 to 128 bytes")
	case strings.ContainsFunc(id, unicode.IsControl):
		return badID("app id holds a control character")
	}
	return nil
}

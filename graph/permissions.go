package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"

	"seatgraph/internal/auth"
)

// fieldScopes is the one table of the scope each field needs, keyed by
// "Type.field". Query fields not listed need only valid credentials;
// nested fields are listed where they reach data of another scope.
var fieldScopes = map[string]string{
	"Query.license":            auth.ScopeLicensesRead,
	"Query.licenses":           auth.ScopeLicensesRead,
	"Query.assignment":         auth.ScopeLicensesRead,
	"Query.assignments":        auth.ScopeLicensesRead,
	"Query.person":             auth.ScopeDirectoryRead,
	"Query.personByEmail":      auth.ScopeDirectoryRead,
	"Query.people":             auth.ScopeDirectoryRead,
	"Query.group":              auth.ScopeDirectoryRead,
	"Query.groups":             auth.ScopeDirectoryRead,
	"License.assignments":      auth.ScopeLicensesRead,
	"Person.assignments":       auth.ScopeLicensesRead,
	"Person.entitlements":      auth.ScopeLicensesRead,
	"Group.assignments":        auth.ScopeLicensesRead,
	"Person.groups":            auth.ScopeDirectoryRead,
	"Group.members":            auth.ScopeDirectoryRead,
	"Assignment.assignee":      auth.ScopeDirectoryRead,
	"Assignment.assignedBy":    auth.ScopeDirectoryRead,
	"Assignment.viaGroup":      auth.ScopeDirectoryRead,
	"Viewer.person":            auth.ScopeDirectoryRead,
	"Entitlement.license":      auth.ScopeLicensesRead,
	"Assignment.license":       auth.ScopeLicensesRead,
	"Assignment.history":       auth.ScopeLicensesRead,
	"Assignment.viaAssignment": auth.ScopeLicensesRead,
}

// public are the root fields answered without credentials: the subgraph
// schema for the gateway, and introspection when it is switched on.
var public = map[string]bool{"_service": true, "__schema": true, "__type": true, "__typename": true}

// Authorize is the field middleware that enforces fieldScopes; it is the
// one place where scopes are checked before a resolver runs.
func Authorize(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc.Object == "Query" && !public[fc.Field.Name] && auth.FromContext(ctx) == nil {
		return nil, errUnauthenticated
	}
	if scope, ok := fieldScopes[fc.Object+"."+fc.Field.Name]; ok {
		if err := permit(ctx, scope); err != nil {
			return nil, err
		}
	}
	return next(ctx)
}

// permit checks that the caller holds scope.
func permit(ctx context.Context, scope string) error {
	p := auth.FromContext(ctx)
	switch {
	case p == nil:
		return errUnauthenticated
	case !p.Has(scope):
		return coded(CodeForbidden, fmt.Sprintf("missing scope %q", scope))
	}
	return nil
}

// allowDeleted checks that a caller asking for deleted records is an admin.
func allowDeleted(ctx context.Context, includeDeleted bool) error {
	if !includeDeleted {
		return nil
	}
	if err := permit(ctx, auth.ScopeAdmin); err != nil {
		return coded(CodeForbidden, "includeDeleted needs the admin scope")
	}
	return nil
}

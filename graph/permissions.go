package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"seatgraph/internal/auth"
	"seatgraph/internal/codes"
	"seatgraph/internal/gid"
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
	"License.utilization":      auth.ScopeLicensesRead,
	"License.usage":            auth.ScopeLicensesRead,
	"License.reclaimPolicy":    auth.ScopeLicensesRead,
	"Query.reclaimCandidates":  auth.ScopeLicensesRead,
	"Query.utilization":        auth.ScopeLicensesRead,
	"Query.spendSummary":       auth.ScopeLicensesRead,
	"Query.renewals":           auth.ScopeLicensesRead,

	"Subscription.assignmentEvents": auth.ScopeLicensesRead,
	"Subscription.licenseSeats":     auth.ScopeLicensesRead,

	"Query.webhookEndpoints":         auth.ScopeAdmin,
	"WebhookEndpoint.deliveries":     auth.ScopeAdmin,
	"Mutation.createWebhookEndpoint": auth.ScopeAdmin,
	"Mutation.updateWebhookEndpoint": auth.ScopeAdmin,
	"Mutation.deleteWebhookEndpoint": auth.ScopeAdmin,
	"Mutation.rotateWebhookSecret":   auth.ScopeAdmin,
	"Mutation.redeliverWebhook":      auth.ScopeAdmin,

	"Mutation.createLicense":      auth.ScopeLicensesWrite,
	"Mutation.updateLicense":      auth.ScopeLicensesWrite,
	"Mutation.deleteLicense":      auth.ScopeLicensesWrite,
	"Mutation.assignLicense":      auth.ScopeLicensesWrite,
	"Mutation.assignLicenses":     auth.ScopeLicensesWrite,
	"Mutation.updateAssignment":   auth.ScopeLicensesWrite,
	"Mutation.revokeAssignment":   auth.ScopeLicensesWrite,
	"Mutation.recordUsage":        auth.ScopeUsageWrite,
	"Mutation.recordUsages":       auth.ScopeUsageWrite,
	"Mutation.reclaimUnusedSeats": auth.ScopeAdmin,
	"Mutation.setReclaimPolicy":   auth.ScopeAdmin,
	"Mutation.createPerson":       auth.ScopeDirectoryWrite,
	"Mutation.updatePerson":       auth.ScopeDirectoryWrite,
	"Mutation.deletePerson":       auth.ScopeDirectoryWrite,
	"Mutation.createGroup":        auth.ScopeDirectoryWrite,
	"Mutation.updateGroup":        auth.ScopeDirectoryWrite,
	"Mutation.deleteGroup":        auth.ScopeDirectoryWrite,
	"Mutation.addGroupMembers":    auth.ScopeDirectoryWrite,
	"Mutation.removeGroupMembers": auth.ScopeDirectoryWrite,
}

// readScope is the scope needed to read records of each kind, for the
// fields that resolve any kind (node, nodes, _entities).
var readScope = map[gid.Kind]string{
	gid.License: auth.ScopeLicensesRead, gid.Assignment: auth.ScopeLicensesRead, gid.Event: auth.ScopeLicensesRead,
	gid.Person: auth.ScopeDirectoryRead, gid.Group: auth.ScopeDirectoryRead,
	// Webhook ids are no Nodes (node answers null for them), but admin's.
	gid.WebhookEndpoint: auth.ScopeAdmin, gid.WebhookDelivery: auth.ScopeAdmin,
}

// public are the root fields answered without credentials: the subgraph
// schema for the gateway, and introspection when it is switched on.
var public = map[string]bool{"_service": true, "__schema": true, "__type": true, "__typename": true}

// deletedFilter is a list filter that can ask for deleted records.
type deletedFilter interface{ IncludesDeleted() bool }

// scopeOf is fieldScopes keyed by type and field apart, so that looking a
// field up (once per field of every response) builds no string.
var scopeOf = func() map[[2]string]string {
	m := make(map[[2]string]string, len(fieldScopes))
	for k, scope := range fieldScopes {
		typ, field, _ := strings.Cut(k, ".")
		m[[2]string{typ, field}] = scope
	}
	return m
}()

// Fields is the one field middleware: every field of a response passes
// through it, so it does as little as it can for a field with nothing to
// check. It authorizes the field (authorize), then readies the request
// for a mutation (writeBoundary).
func Fields(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if err := authorize(ctx, fc); err != nil {
		return nil, err
	}
	if fc.Object == "Mutation" {
		if err := writeBoundary(ctx); err != nil {
			return nil, err
		}
	}
	return next(ctx)
}

// plainLeaf says whether field, a leaf whose value is read from its
// object's struct or given by a resolver of the object and the request
// alone, may skip gqlgen's field machinery and this middleware
// (scripts/listitems rewrites such fields to ask): Fields has nothing to
// check for it (unchecked). A leaf selected in a fragment on an interface
// or union is not plain: gqlgen names the abstract type as its object,
// whose scopes are not those of the object resolved.
func plainLeaf(field graphql.CollectedField) bool {
	o := field.ObjectDefinition
	return o != nil && o.Kind == ast.Object && unchecked(o.Name, field.Name, len(field.Arguments))
}

// unchecked says whether Fields has nothing to check for object's field
// name, given with nargs arguments: it is not a root field, has no scope
// and no arguments (a field given a scope is checked at once).
func unchecked(object, name string, nargs int) bool {
	if nargs > 0 || object == "Query" || object == "Mutation" || object == "Subscription" {
		return false
	}
	_, scoped := scopeOf[[2]string{object, name}]
	return !scoped
}

// authorize enforces fieldScopes, and that only admins list deleted
// records (includeDeleted); it is the one place where scopes are checked
// before a resolver runs.
func authorize(ctx context.Context, fc *graphql.FieldContext) error {
	if unchecked(fc.Object, fc.Field.Name, len(fc.Args)) {
		return nil
	}
	if (fc.Object == "Query" || fc.Object == "Mutation") && !public[fc.Field.Name] && auth.FromContext(ctx) == nil {
		return unauthenticated()
	}
	scope, ok := scopeOf[[2]string{fc.Object, fc.Field.Name}]
	if !ok && fc.Object == "Mutation" {
		// Deny by default: a mutation missing from the table is a bug,
		// and must not run for any caller.
		return coded(codes.Forbidden, "no scope is configured for "+fc.Field.Name)
	}
	if ok {
		if err := permit(ctx, scope); err != nil {
			return err
		}
	}
	if len(fc.Args) == 0 {
		return nil
	}
	if f, ok := fc.Args["filter"].(deletedFilter); ok && f.IncludesDeleted() {
		if err := permit(ctx, auth.ScopeAdmin); err != nil {
			return coded(codes.Forbidden, "includeDeleted needs the admin scope")
		}
	}
	return nil
}

// permitted says whether the caller holds the scope of object's field
// (a field with no scope of its own is permitted).
func permitted(ctx context.Context, object, field string) bool {
	scope, ok := scopeOf[[2]string{object, field}]
	return !ok || permit(ctx, scope) == nil
}

// permit checks that the caller holds scope.
func permit(ctx context.Context, scope string) error {
	p := auth.FromContext(ctx)
	switch {
	case p == nil:
		return unauthenticated()
	case !p.Has(scope):
		return coded(codes.Forbidden, fmt.Sprintf("missing scope %q", scope))
	}
	return nil
}

// Credentials is the handler extension that refuses an operation without
// credentials, before anything runs, when it asks for more than the public
// root fields; the HTTP layer answers it with 401.
type Credentials struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = Credentials{}

// ExtensionName names the extension.
func (Credentials) ExtensionName() string { return "Credentials" }

// Validate accepts any schema.
func (Credentials) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext refuses the operation when credentials are needed.
func (Credentials) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if auth.FromContext(ctx) != nil || onlyPublic(opCtx.Operation.SelectionSet) {
		return nil
	}
	return unauthenticated()
}

// onlyPublic reports whether a root selection set asks only for public
// fields (through fragments too).
func onlyPublic(set ast.SelectionSet) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if !public[s.Name] {
				return false
			}
		case *ast.InlineFragment:
			if !onlyPublic(s.SelectionSet) {
				return false
			}
		case *ast.FragmentSpread:
			if s.Definition == nil || !onlyPublic(s.Definition.SelectionSet) {
				return false
			}
		}
	}
	return true
}

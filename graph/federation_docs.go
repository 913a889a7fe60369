package graph

import (
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// federationDocs describes what gqlgen's federation plugin adds to the
// schema without a description, so that the docs a frontend developer
// browses (introspection, the playground) explain those elements too
// instead of showing them bare. Keys are "Type" or "Type.field" or
// "Type.field(argument)". The plugin's per-entity helpers (the Entity
// type and the <Type>ByIDsInput inputs) are described by describeEntityHelpers.
var federationDocs = map[string]string{
	"_Any":                             "Federation: an entity representation, a JSON object with __typename and the entity's key fields, as a gateway sends it to _entities.",
	"FieldSet":                         "Federation: a selection of fields, such as \"id\", naming an entity's key in @key.",
	"federation__Policy":               "Federation: an authorization policy name, for the @policy directive (unused by seatgraph).",
	"federation__Scope":                "Federation: an authorization scope name, for the @requiresScopes directive (unused by seatgraph).",
	"_Entity":                          "Federation: every type a gateway can fetch by key through _entities.",
	"_Service":                         "Federation: this subgraph's schema, for a gateway to compose.",
	"_Service.sdl":                     "The subgraph schema in SDL, with its federation directives.",
	"Query._service":                   "Federation: this subgraph's schema, for the gateway. Answers without credentials, even with introspection off.",
	"Query._entities":                  "Federation: the entities named by representations, for the gateway, in the same order; null where the caller cannot see one. Needs credentials and the read scope of each type.",
	"Query._entities(representations)": "The entities to fetch: {__typename, id} objects, as the gateway sends them.",
}

// describeFederation fills in federationDocs and the per-entity helper
// descriptions on s.
func describeFederation(s *ast.Schema) {
	for key, desc := range federationDocs {
		typeName, rest, _ := strings.Cut(key, ".")
		def := s.Types[typeName]
		if def == nil {
			continue
		}
		if rest == "" {
			def.Description = desc
			continue
		}
		fieldName, arg, hasArg := strings.Cut(strings.TrimSuffix(rest, ")"), "(")
		f := def.Fields.ForName(fieldName)
		switch {
		case f == nil:
		case !hasArg:
			f.Description = desc
		case f.Arguments.ForName(arg) != nil:
			f.Arguments.ForName(arg).Description = desc
		}
	}
	describeEntityHelpers(s)
}

// describeEntityHelpers describes the Entity type (gqlgen's table of entity
// resolvers behind _entities, not reachable from Query) and its
// <Type>ByIDsInput inputs.
func describeEntityHelpers(s *ast.Schema) {
	const internal = "Federation internals (gqlgen): "
	if def := s.Types["Entity"]; def != nil {
		def.Description = internal + "the batch resolvers behind Query._entities. Not reachable from Query; use _entities."
		for _, f := range def.Fields {
			f.Description = internal + "resolves a batch of " + entityOf(f.Type) + " representations for _entities."
			for _, a := range f.Arguments {
				a.Description = "The representations' keys."
			}
		}
	}
	for name, def := range s.Types {
		entity, ok := strings.CutSuffix(name, "ByIDsInput")
		if !ok || def.Kind != ast.InputObject {
			continue
		}
		def.Description = internal + "the key of one " + entity + " representation."
		for _, f := range def.Fields {
			f.Description = "The " + entity + "'s " + f.Name + "."
		}
	}
}

// entityOf is the named type at the bottom of a (list) type.
func entityOf(t *ast.Type) string {
	for t.Elem != nil {
		t = t.Elem
	}
	return t.NamedType
}

func init() { describeFederation(parsedSchema) }

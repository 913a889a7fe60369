package graph

import (
	"strings"
	"testing"
)

var standardScalars = map[string]bool{"Int": true, "Float": true, "String": true, "Boolean": true, "ID": true}

// TestSchemaIsDocumented walks the schema the server serves (what
// introspection and the playground's docs show) and fails on every type,
// field, argument, input field and enum value without a description.
func TestSchemaIsDocumented(t *testing.T) {
	schema := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	var missing []string
	need := func(desc, what string) {
		if strings.TrimSpace(desc) == "" {
			missing = append(missing, what)
		}
	}
	for name, def := range schema.Types {
		// Introspection types and the standard scalars are GraphQL's own;
		// TechnologyAsset is described by the subgraph that owns it.
		if strings.HasPrefix(name, "__") || standardScalars[name] || name == "TechnologyAsset" {
			continue
		}
		need(def.Description, name)
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			need(f.Description, name+"."+f.Name)
			for _, a := range f.Arguments {
				need(a.Description, name+"."+f.Name+"("+a.Name+")")
			}
		}
		for _, v := range def.EnumValues {
			need(v.Description, name+"."+v.Name)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d schema elements have no description (add one in schema.graphqls, or in federationDocs for gqlgen's federation helpers):\n%s",
			len(missing), strings.Join(missing, "\n"))
	}
}

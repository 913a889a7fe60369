package graph

import (
	"fmt"
	"strings"
	"testing"

	"seatgraph/internal/problem"
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

// TestSchemaTextLimitsInBytes: the text limit (problem.MaxTextLength)
// counts bytes, so a description that states it says bytes: "500
// characters" would promise a frontend room that multi-byte text lacks.
func TestSchemaTextLimitsInBytes(t *testing.T) {
	limit := fmt.Sprintf("at most %d ", problem.MaxTextLength)
	var wrong []string
	stated := 0
	check := func(desc, what string) {
		if i := strings.Index(desc, limit); i >= 0 {
			stated++
			if !strings.HasPrefix(desc[i+len(limit):], "bytes") {
				wrong = append(wrong, what+": "+desc)
			}
		}
	}
	for name, def := range NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema().Types {
		for _, f := range def.Fields {
			check(f.Description, name+"."+f.Name)
			for _, a := range f.Arguments {
				check(a.Description, name+"."+f.Name+"("+a.Name+")")
			}
		}
	}
	if stated == 0 || len(wrong) > 0 {
		t.Errorf("%d descriptions state the text limit; these do not say bytes:\n%s", stated, strings.Join(wrong, "\n"))
	}
}

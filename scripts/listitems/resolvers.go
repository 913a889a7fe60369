package main

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// plainResolvers are the resolvers that answer from their object and the
// request alone: no I/O, no field context, never an error (an
// assignment's status at the request's clock, whether it is direct, a
// license's expiry at the request's clock). gqlgen gives each of them its
// whole field machinery, and resolves it after the object's other fields
// as if it might read (graph.fieldsInOrder): for a page of 50 assignments
// with their status, a fifth of what the server allocates. Each listed
// field takes the short way of a plain leaf when graph.plainLeaf allows:
// the resolver called in the object's own pass and its value marshalled
// at once. Should one return an error, the field goes gqlgen's way, which
// runs it again and reports it.
var plainResolvers = []string{"Assignment.status", "Assignment.direct", "License.expired"}

// resolverField is gqlgen's code for object's field with a resolver of
// the object alone (no arguments), marshalled by one call.
func resolverField(object, field string) *regexp.Regexp {
	return fieldForm(regexp.QuoteMeta("_"+object+"_"+field), `(ec\.Resolvers\.\w+\(\)\.\w+\(ctx, obj\))`)
}

// resolverCase is the field's case in its object's function: scheduled
// after the other fields (fieldsInOrder.add), non-null or not.
func resolverCase(object, field string) *regexp.Regexp {
	return regexp.MustCompile(`(\t\tcase "` + field + `":\n)` +
		`(\t\t\tlater\.add\(ec\.OperationContext, i, field\.Field,\n\t\t\t\ttrue, (true|false),\n` +
		`\t\t\t\tfunc\(ctx context\.Context\) graphql\.Marshaler \{\n\t\t\t\t\treturn ec\._` + object + `_` + field + `\(ctx, field, obj\)\n\t\t\t\t\}\)\n)`)
}

// plainResolverFields gives the case of each field of plainResolvers in
// its object's function the short way, before gqlgen's; it fails when
// the field's code is not of the form it expects, or its marshaller is
// not safe without the field's context (leaves.go).
func plainResolverFields(src []byte) ([]byte, error) {
	safe := safeMarshallers(src)
	for _, name := range plainResolvers {
		object, field, _ := strings.Cut(name, ".")
		fn := resolverField(object, field)
		m := fn.FindAllSubmatch(src, -1)
		if len(m) != 1 {
			return nil, fmt.Errorf("%s: no resolver of gqlgen's form: has the schema or gqlgen's generated code changed?", name)
		}
		resolve, marshal := m[0][3], m[0][4]
		if !safe[string(marshal)] {
			return nil, fmt.Errorf("%s: its marshaller %s may need the field's context", name, marshal)
		}

		objectFn := []byte("func (ec *executionContext) _" + object + "(ctx context.Context, sel ast.SelectionSet, obj ")
		at := bytes.Index(src, objectFn)
		if at < 0 {
			return nil, fmt.Errorf("%s: no function for the object %s", name, object)
		}
		end := at + bytes.Index(src[at:], []byte("\n}\n"))
		c := resolverCase(object, field).FindSubmatchIndex(src[at:end])
		if c == nil {
			return nil, fmt.Errorf("%s: its case in _%s is not of gqlgen's form", name, object)
		}
		// gqlgen's check for a plain field: Null for a non-null one,
		// RequiredNull for a nullable one.
		null := "graphql.RequiredNull"
		if string(src[at+c[6]:at+c[7]]) == "true" {
			null = "graphql.Null"
		}
		short := fmt.Sprintf("\t\t\tif plainLeaf(field) { // scripts/listitems: a resolver of the object and the request alone\n"+
			"\t\t\t\tif v, err := %s; err == nil {\n"+
			"\t\t\t\t\tout.Values[i] = ec.%s(ctx, field.Selections, v)\n"+
			"\t\t\t\t\tif out.Values[i] == %s {\n\t\t\t\t\t\tatomic.AddUint32(&out.Invalids, 1)\n\t\t\t\t\t}\n"+
			"\t\t\t\t\tbreak\n\t\t\t\t}\n\t\t\t}\n", resolve, marshal, null)
		src = bytes.Join([][]byte{src[:at+c[3]], []byte(short), src[at+c[4]:]}, nil)
	}
	return src, nil
}

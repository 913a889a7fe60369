package main

import (
	"bytes"
	"fmt"
	"regexp"
)

// A leaf field that reads its object's struct (obj.Name, obj.TypeID())
// goes through gqlgen's whole field machinery: a FieldContext, a context
// holding it, the field middleware, closures and the value boxed twice,
// about nine allocations for one string. For a response of 50 rows of
// three such fields that is most of what the server allocates. plainLeaves
// gives each such field a shorter way, taken when graph.plainLeaf says the
// field middleware would have nothing to check (no scope, no arguments,
// not a root field): the value marshalled straight from the struct.
// Anything else (resolvers, objects, lists, marshallers that report an
// error through the field's context) keeps gqlgen's way.

// leafField is gqlgen's code for a field whose value is one of its
// object's struct fields or methods without error, marshalled by one call.
var leafField = fieldForm(`_\w+`, `(obj\.\w+(?:\(\))?), nil`)

// fieldForm is gqlgen's code for a field function named by fn (a
// pattern) whose value is the expression value matches (a pattern with
// one group), marshalled by one call. Its groups: the function's first
// line, its body, the value's expression and the marshal function.
func fieldForm(fn, value string) *regexp.Regexp {
	return regexp.MustCompile(`(func \(ec \*executionContext\) ` + fn + `\(ctx context\.Context, field graphql\.CollectedField, obj [^)]+\) \(ret graphql\.Marshaler\) \{\n)` +
		`(\treturn graphql\.ResolveField\(\n\t\tctx,\n\t\tec\.OperationContext,\n\t\tfield,\n` +
		`\t\tfunc\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{\n\t\t\treturn ec\.fieldContext_\w+\(ctx, field\)\n\t\t\},\n` +
		`\t\tfunc\(ctx context\.Context\) \(any, error\) \{\n\t\t\treturn ` + value + `\n\t\t\},\n` +
		`\t\tnil,\n` +
		`\t\tfunc\(ctx context\.Context, selections ast\.SelectionSet, v [^)]+\) graphql\.Marshaler \{\n\t\t\treturn ec\.(marshal[^(]+)\(ctx, selections, v\)\n\t\t\},\n)`)
}

// marshaller is a generated marshal function and its body.
var marshaller = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) (marshal[^(]+)\(ctx context\.Context, sel ast\.SelectionSet, v [^)]+\) graphql\.Marshaler \{\n((?:\t.*\n)*?)\}\n`)

// Marshaller bodies that never need the field's context: an enum's value
// itself, gqlgen's scalars that never marshal to null, and a nullable
// scalar that writes null for nil without reporting anything.
var (
	enumBody     = regexp.MustCompile(`^\treturn v\n$`)
	nonNullBody  = regexp.MustCompile(`^\t_ = sel\n\tres := graphql\.Marshal(?:String|Int|Int32|Int64|Boolean|ID)\(v\)\n\tif res == graphql\.Null \{\n\t\tgraphql\.AddInvalidNullFromMarshaler\(ctx, "\w+!"\)\n\t\}\n\treturn res\n$`)
	nullableBody = regexp.MustCompile(`^\tif v == nil \{\n\t\treturn graphql\.Null\n\t\}\n\t_ = sel\n\t_ = ctx\n\tres := [\w.]+\(\*v\)\n\treturn res\n$`)
)

// safeMarshallers are the marshal functions of src that never need the
// field's context.
func safeMarshallers(src []byte) map[string]bool {
	safe := map[string]bool{}
	for _, m := range marshaller.FindAllSubmatch(src, -1) {
		body := m[2]
		if enumBody.Match(body) || nonNullBody.Match(body) || nullableBody.Match(body) {
			safe[string(m[1])] = true
		}
	}
	return safe
}

// plainLeaves rewrites every leaf field of src whose marshaller is safe
// without the field's context, and says how many of the fields read from
// their struct (leafField's form) it rewrote (a gqlgen upgrade that
// changes a marshaller's body shows as fewer); it fails when it rewrites
// none.
func plainLeaves(src []byte) ([]byte, error) {
	safe := safeMarshallers(src)
	n, fields := 0, 0
	src = leafField.ReplaceAllFunc(src, func(f []byte) []byte {
		fields++
		m := leafField.FindSubmatch(f)
		if !safe[string(m[4])] {
			return f
		}
		n++
		short := fmt.Sprintf("\tif plainLeaf(field) { // scripts/listitems: the value straight from its struct\n\t\treturn ec.%s(ctx, field.Selections, %s)\n\t}\n", m[4], m[3])
		return bytes.Join([][]byte{m[1], []byte(short), m[2]}, nil)
	})
	if n == 0 {
		return nil, fmt.Errorf("no leaf field of gqlgen's form: has gqlgen's generated code changed?")
	}
	fmt.Printf("listitems: %d of %d fields read from their struct take the short way (the leaves whose marshaller needs no field context)\n", n, fields)
	return src, nil
}

// Package pgtext finds U+0000 in decoded JSON: PostgreSQL text cannot store
// it, so every entry point that reads JSON (GraphQL variables, SCIM
// bodies) refuses it before anything is written, with one rule.
package pgtext

import "strings"

// HasNUL reports whether any string in a decoded JSON value (a string, a
// map[string]any with its keys, a []any, nested) holds U+0000.
func HasNUL(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.ContainsRune(v, 0)
	case map[string]any:
		for k, x := range v {
			if strings.ContainsRune(k, 0) || HasNUL(x) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if HasNUL(x) {
				return true
			}
		}
	}
	return false
}

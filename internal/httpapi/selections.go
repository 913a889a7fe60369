package httpapi

import "github.com/vektah/gqlparser/v2/ast"

// anySelection reports whether is(sel) holds for a selection under set: every
// field, inline fragment and fragment spread, through the fragments spread
// (each fragment's selections once).
func anySelection(set ast.SelectionSet, is func(ast.Selection) bool) bool {
	return anyIn(set, is, map[string]bool{})
}

func anyIn(set ast.SelectionSet, is func(ast.Selection) bool, seen map[string]bool) bool {
	for _, sel := range set {
		if is(sel) {
			return true
		}
		var under ast.SelectionSet
		switch s := sel.(type) {
		case *ast.Field:
			under = s.SelectionSet
		case *ast.InlineFragment:
			under = s.SelectionSet
		case *ast.FragmentSpread:
			if s.Definition == nil || seen[s.Name] {
				continue
			}
			seen[s.Name] = true
			under = s.Definition.SelectionSet
		}
		if anyIn(under, is, seen) {
			return true
		}
	}
	return false
}

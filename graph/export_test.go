package graph

// ScopeOf is the field scopes Fields enforces, for tests that give a
// field a scope it does not have in fieldScopes.
var ScopeOf = scopeOf

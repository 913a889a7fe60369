// Package opt reads the optional values of inputs: a nil pointer is an
// argument the caller left out.
package opt

// True says whether b is given and true.
func True(b *bool) bool { return b != nil && *b }

// Or is *p, or def when p is nil.
func Or[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

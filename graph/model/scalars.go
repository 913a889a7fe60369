package model

import (
	"io"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"seatgraph/internal/problem"
)

// MarshalDateTime writes a time as RFC 3339 with nanoseconds.
func MarshalDateTime(t time.Time) graphql.Marshaler { return graphql.MarshalTime(t) }

// UnmarshalDateTime reads an RFC 3339 time; anything else is a clear
// BAD_USER_INPUT error rather than an internal one.
func UnmarshalDateTime(v any) (time.Time, error) {
	t, err := graphql.UnmarshalTime(v)
	if err != nil {
		return time.Time{}, problem.New(problem.Invalid, "", "DateTime must be an RFC 3339 string with a time zone, such as \"2026-01-31T09:30:00Z\" (got %v)", v)
	}
	return t, nil
}

// MarshalJSON writes a JSON object.
func MarshalJSON(m map[string]any) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { graphql.MarshalMap(m).MarshalGQL(w) })
}

// UnmarshalJSON reads a JSON object; anything else is BAD_USER_INPUT.
func UnmarshalJSON(v any) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, problem.New(problem.Invalid, "", "JSON must be an object, such as {\"key\": \"value\"} (got %T)", v)
	}
	return m, nil
}

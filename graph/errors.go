package graph

import (
	"context"
	"errors"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"seatgraph/internal/codes"
	"seatgraph/internal/gid"
	"seatgraph/internal/logging"
	"seatgraph/internal/paging"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
)

// unauthenticated is a fresh error each time: gqlgen stamps the path of
// the field onto the error it is given, so an error value must not be shared.
func unauthenticated() *gqlerror.Error {
	return coded(codes.Unauthenticated, `authentication required: send "Authorization: Bearer <token>" or "Authorization: ApiKey <key>"`)
}

// coded makes a GraphQL error with an extensions.code.
func coded(code, message string) *gqlerror.Error {
	return &gqlerror.Error{Message: message, Extensions: map[string]any{"code": code}}
}

// PresentError is the one place where errors become GraphQL errors:
// business problems and bad arguments keep their message under
// BAD_USER_INPUT (or their own code), errors that already carry a code
// pass through, and anything else is logged with the request id and
// masked as INTERNAL_SERVER_ERROR.
func PresentError(ctx context.Context, err error) *gqlerror.Error {
	gerr := graphql.DefaultErrorPresenter(ctx, err)
	// Logs carry gerr.Message (the error's text before it is masked), not
	// err.Error(): that starts with the field's location and path, which
	// would keep the request line from folding a failure shared by many
	// fields into one problem.
	var p *problem.Error
	switch {
	case errors.As(err, &p):
		gerr.Message = p.Error()
		gerr.Extensions = map[string]any{"code": codes.BadUserInput, "reason": string(p.Code)}
	case store.BadValue(err):
		// PostgreSQL refused a value the caller sent (a crafted cursor, an
		// out-of-range number): the caller's input is wrong, but it is
		// logged, in case the server built the value.
		logging.From(ctx).WarnContext(ctx, "database refused a value", "error", gerr.Message, "path", gerr.Path.String())
		gerr.Message = "a value in the request is malformed or out of range"
		gerr.Extensions = map[string]any{"code": codes.BadUserInput}
	case errors.As(err, new(*store.OutcomeUnknownError)):
		logging.From(ctx).ErrorContext(ctx, "commit not confirmed", "error", gerr.Message, "path", gerr.Path.String())
		gerr.Message = "the database did not confirm the write: it may or may not have taken effect; read before retrying"
		gerr.Extensions = map[string]any{"code": codes.Internal}
	case store.Busy(err):
		store.MarkGaveUp(ctx)
		logging.From(ctx).WarnContext(ctx, "gave up waiting for a lock", "error", gerr.Message, "path", gerr.Path.String())
		gerr.Message = "the records this operation needs are busy with other writes; try again"
		gerr.Extensions = map[string]any{"code": codes.ServiceUnavailable}
	case store.Unavailable(err):
		store.MarkGaveUp(ctx)
		logging.From(ctx).ErrorContext(ctx, "database unavailable", "error", gerr.Message, "path", gerr.Path.String())
		gerr.Message = "the database is unavailable; try again shortly"
		gerr.Extensions = map[string]any{"code": codes.ServiceUnavailable}
	case errors.Is(err, paging.ErrInvalidArgs), errors.Is(err, gid.ErrInvalid):
		gerr.Message = err.Error()
		gerr.Extensions = map[string]any{"code": codes.BadUserInput}
	case gerr.Extensions["code"] != nil:
	case badArgument(ctx, gerr):
		gerr.Extensions = map[string]any{"code": codes.BadUserInput}
	default:
		logging.From(ctx).ErrorContext(ctx, "resolver failed", "error", gerr.Message, "path", gerr.Path.String())
		gerr.Message = "internal server error"
		gerr.Extensions = map[string]any{"code": codes.Internal}
	}
	return gerr
}

// badArgument reports whether gerr is gqlgen's failure to read an argument
// of the current field (an input value of the wrong shape, such as a
// DateTime that is not a date): its path goes below the field, into one of
// the field's arguments. Such a message describes the input, not the server.
func badArgument(ctx context.Context, gerr *gqlerror.Error) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || fc.Field.Definition == nil {
		return false
	}
	path := fc.Path()
	if len(gerr.Path) <= len(path) {
		return false
	}
	for i := range path {
		if path[i] != gerr.Path[i] {
			return false
		}
	}
	name, ok := gerr.Path[len(path)].(ast.PathName)
	return ok && fc.Field.Definition.Arguments.ForName(string(name)) != nil
}

// Recover turns a panic in a resolver into a masked internal error, so one
// bad request never takes the server down. The panic's value is logged as
// text (fmt.Sprint), whatever its type.
func Recover(ctx context.Context, v any) error {
	logging.From(ctx).ErrorContext(ctx, "resolver panicked", "panic", fmt.Sprint(v))
	return coded(codes.Internal, "internal server error")
}

package telemetry

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"seatgraph/internal/codes"
	"seatgraph/internal/limits"
)

// GraphQL is the gqlgen extension that writes each operation into the
// request's record (name, type, complexity, error codes) and, given a
// tracer provider, traces it: one span for the operation (from parsing
// on) with its parse and validation, and one per root field. Nested
// fields get no span each (a list of 100 × 100 would make 10,000); their
// work shows as the loader batches and SQL statements below the root
// field.
//
// otelgqlgen was considered: the one version on the module proxy (v0.4.1)
// is built for gqlgen v0.14, makes a span for every field, scalars
// included, records variables (callers' data) and reads complexity from
// gqlgen's own complexity extension, which seatgraph does not use.
type GraphQL struct {
	tracer trace.Tracer // nil: no spans
}

// NewGraphQL returns the extension; tp nil is tracing off.
func NewGraphQL(tp trace.TracerProvider) *GraphQL {
	g := &GraphQL{}
	if tp != nil {
		g.tracer = tp.Tracer(instrumentation)
	}
	return g
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
	graphql.RootFieldInterceptor
} = &GraphQL{}

// ExtensionName names the extension.
func (*GraphQL) ExtensionName() string { return "Telemetry" }

// Validate accepts any schema.
func (*GraphQL) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse records (and traces) the operation and its errors.
// Names are cleaned (OperationName) before they go anywhere; a requested
// operationName that names no operation of the document is the caller's
// text only, so it goes to the request's log line but never to a span.
func (g *GraphQL) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	req := From(ctx)
	var name, typ string
	var complexity int
	oc := graphql.GetOperationContext(ctx)
	if oc != nil && oc.Operation != nil {
		name, typ = OperationName(oc.Operation.Name), string(oc.Operation.Operation)
		if c, ok := oc.Stats.GetExtension(limits.StatsName).(limits.Cost); ok {
			complexity = c.Complexity
		}
		req.SetOperation(name, typ, complexity)
	} else if oc != nil && oc.OperationName != "" {
		// Refused before an operation was chosen: log the name asked for.
		req.SetOperation(oc.OperationName, "", 0)
	}
	var span trace.Span
	if g.tracer != nil {
		ctx, span = g.startOperation(ctx, oc, name, typ, complexity)
		defer span.End()
	}
	resp := next(ctx)
	if resp == nil {
		return resp
	}
	serverError := false
	for _, e := range resp.Errors {
		code, _ := e.Extensions["code"].(string)
		req.AddError(code)
		serverError = serverError || code == codes.Internal || code == codes.ServiceUnavailable
	}
	if span != nil && len(resp.Errors) > 0 {
		span.SetAttributes(attribute.Int("graphql.errors", len(resp.Errors)))
		if serverError {
			span.SetStatus(otelcodes.Error, "internal server error")
		}
	}
	return resp
}

func (g *GraphQL) startOperation(ctx context.Context, oc *graphql.OperationContext, name, typ string,
	complexity int) (context.Context, trace.Span) {
	spanName := "graphql"
	if typ != "" {
		spanName = typ
		if name != "" {
			spanName += " " + name
		}
	}
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal)}
	if oc != nil && !oc.Stats.OperationStart.IsZero() {
		opts = append(opts, trace.WithTimestamp(oc.Stats.OperationStart))
	}
	attrs := []attribute.KeyValue{attribute.String("graphql.operation.type", typ)}
	if name != "" {
		attrs = append(attrs, attribute.String("graphql.operation.name", name))
	}
	if complexity > 0 {
		attrs = append(attrs, attribute.Int("graphql.operation.complexity", complexity))
	}
	if req := From(ctx); req != nil {
		s := req.Summary()
		attrs = append(attrs, attribute.String("seatgraph.request_id", req.ID))
		if s.Tenant != "" {
			attrs = append(attrs, attribute.String("seatgraph.tenant", s.Tenant))
		}
		if s.App != "" {
			attrs = append(attrs, attribute.String("seatgraph.app", s.App))
		}
	}
	opts = append(opts, trace.WithAttributes(attrs...))
	ctx, span := g.tracer.Start(ctx, spanName, opts...)
	if oc != nil {
		for _, phase := range []struct {
			name string
			t    graphql.TraceTiming
		}{{"graphql.parse", oc.Stats.Parsing}, {"graphql.validate", oc.Stats.Validation}} {
			if !phase.t.Start.IsZero() && !phase.t.End.IsZero() {
				_, s := g.tracer.Start(ctx, phase.name, trace.WithTimestamp(phase.t.Start))
				s.End(trace.WithTimestamp(phase.t.End))
			}
		}
	}
	return ctx, span
}

// InterceptRootField traces a root field (its nested fields run inside it).
func (g *GraphQL) InterceptRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	if g.tracer == nil {
		return next(ctx)
	}
	fc := graphql.GetRootFieldContext(ctx)
	if fc == nil || fc.Field.Name == "__typename" {
		return next(ctx)
	}
	object := fc.Object
	if fc.Field.ObjectDefinition != nil {
		object = fc.Field.ObjectDefinition.Name
	}
	ctx, span := g.tracer.Start(ctx, fmt.Sprintf("%s.%s", object, fc.Field.Name), trace.WithAttributes(
		attribute.String("graphql.field.name", fc.Field.Name), attribute.String("graphql.field.alias", fc.Field.Alias)))
	defer span.End()
	return next(ctx)
}

package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Batch runs fetch, a dataloader's batch function, for keys: each batch
// is counted in the loader batch-size histogram and, when the request is
// traced, is a span "loader <name>" (its SQL nested in it) with its number
// of keys. The tracer is the one of the span in the batch's context, so
// untraced requests pay for nothing but the count.
func Batch[K comparable, V any](ctx context.Context, name string, keys []K, fetch func(context.Context, []K) (map[K]V, error)) (map[K]V, error) {
	if r := From(ctx); r != nil && r.metrics != nil {
		r.metrics.loaderBatch.WithLabelValues(r.metrics.loaders.label(name)).Observe(float64(len(keys)))
	}
	// The batch's context is that of the first load; its span may have
	// ended (a batch primed by another batch runs after it), so ask
	// whether the trace is sampled, not whether the span records.
	parent := trace.SpanFromContext(ctx)
	if !parent.SpanContext().IsSampled() {
		return fetch(ctx, keys)
	}
	ctx, span := parent.TracerProvider().Tracer(instrumentation).Start(ctx, "loader "+name,
		trace.WithAttributes(attribute.String("seatgraph.loader", name), attribute.Int("seatgraph.loader.keys", len(keys))))
	defer span.End()
	vals, err := fetch(ctx, keys)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	return vals, err
}

// TimerBatch counts a batch of loader name that ran when its wait ran out
// (a level whose siblings were not all known), not as soon as it was full.
func TimerBatch(ctx context.Context, name string) {
	if r := From(ctx); r != nil && r.metrics != nil {
		r.metrics.loaderWaits.WithLabelValues(r.metrics.loaders.label(name)).Inc()
	}
}

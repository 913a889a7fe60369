package httpapi

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"seatgraph/graph"
	"seatgraph/internal/auth"
	"seatgraph/internal/codes"
	"seatgraph/internal/loaders"
	"seatgraph/internal/logging"
	"seatgraph/internal/store"
)

// WebSocket close codes seatgraph sends, besides graphql-transport-ws's own.
const (
	// CloseUnauthorized: connection_init carried no or bad credentials.
	CloseUnauthorized = 4401
	// CloseSlowSubscriber: the client did not read its events fast enough
	// (more than the buffer's worth were waiting); reconnect with after.
	CloseSlowSubscriber = 4008
	// CloseCredentialsUnchecked: credentials could not be checked (the
	// database was unreachable); try again.
	CloseCredentialsUnchecked = 4503
)

// isStream says whether r asks for a subscription transport: a WebSocket
// upgrade, or Server-Sent Events (POST with Accept: text/event-stream).
func isStream(r *http.Request) bool {
	return r.Header.Get("Upgrade") != "" || strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// streams routes subscription requests to stream (which has no request
// timeout: a subscription lasts) and the rest to next.
func streams(stream, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isStream(r) {
			// A subscription outlives the server's read and write timeouts.
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(time.Time{})
			_ = rc.SetWriteDeadline(time.Time{})
			stream.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// streamTransports are the WebSocket (graphql-transport-ws, and the older
// graphql-ws) and SSE transports. A WebSocket is authenticated by its
// connection_init payload ({"Authorization": "Bearer …"}), or by the
// upgrade request's own Authorization header; browsers may open one only
// from the server's own origin or CORS_ALLOWED_ORIGINS.
func streamTransports(authn *auth.Authenticator, origins []string, recheck time.Duration) []any {
	return []any{
		transport.Websocket{
			Implementation:        websocketImpl{origins: originPatterns(origins)},
			InitFunc:              wsInit(authn, recheck),
			InitTimeout:           10 * time.Second,
			KeepAlivePingInterval: 15 * time.Second,
			PingPongInterval:      15 * time.Second,
		},
		transport.SSE{KeepAlivePingInterval: 15 * time.Second},
	}
}

// originPatterns are the hosts of the allowed origins, as coder/websocket
// matches them against the Origin header.
func originPatterns(origins []string) []string {
	var out []string
	for _, o := range origins {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			out = append(out, u.Host)
		}
	}
	return out
}

// websocketImpl accepts WebSocket connections with the origin check, and
// lets a connection's subscriptions close it with a code (graph.Subscriptions).
type websocketImpl struct{ origins []string }

func (i websocketImpl) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	c, err := transport.CoderWebsocketImplementation{AcceptOptions: coderws.AcceptOptions{OriginPatterns: i.origins}}.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	if sc := streamOf(r.Context()); sc != nil {
		sc.close = func(code int, reason string) {
			go func() { _ = c.WriteClose(code, reason) }()
		}
		sc.subs.Drop = func(reason string) { sc.close(CloseSlowSubscriber, reason) }
	}
	return c, nil
}

// streamConn is what a streaming request's handlers share: its count of
// subscriptions, the credentials of its upgrade request, and (for a
// WebSocket, once accepted) how to close it with a code.
type streamConn struct {
	subs   *graph.Subscriptions
	header string
	close  func(code int, reason string)
}

type connKey struct{}

func streamOf(ctx context.Context) *streamConn {
	s, _ := ctx.Value(connKey{}).(*streamConn)
	return s
}

// withConnection gives each streaming request its count of subscriptions.
func withConnection(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc := &streamConn{subs: &graph.Subscriptions{}, header: r.Header.Get("Authorization")}
		ctx := graph.WithSubscriptions(r.Context(), sc.subs)
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, connKey{}, sc)))
	})
}

// wsInit authenticates a WebSocket at connection_init, with the same
// credentials (and so the same tenant, app and scopes) as a query, and
// closes it (4401) once they lapse (watchCredentials).
func wsInit(authn *auth.Authenticator, recheck time.Duration) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		sc := streamOf(ctx)
		lapsed := func(reason string) {
			if sc != nil && sc.close != nil {
				sc.close(CloseUnauthorized, reason)
			}
		}
		header := payload.Authorization()
		if header == "" {
			if p := auth.FromContext(ctx); p != nil {
				// Authenticated by the upgrade request's own header.
				if sc != nil {
					watchCredentials(ctx, authn, sc.header, p, recheck, lapsed)
				}
				return ctx, nil, nil
			}
			ctx = transport.WithWebsocketCloseCode(ctx, CloseUnauthorized)
			return ctx, nil, errors.New(`unauthenticated: connection_init must carry {"Authorization": "Bearer <token>"} or "ApiKey <key>"`)
		}
		p, err := authn.Authenticate(ctx, header)
		switch {
		case errors.Is(err, auth.ErrUnauthenticated):
			ctx = transport.WithWebsocketCloseCode(ctx, CloseUnauthorized)
			return ctx, nil, errors.New("unauthenticated: " + auth.Reason(err))
		case err != nil:
			logging.From(ctx).ErrorContext(ctx, "credentials could not be checked", "error", err.Error())
			ctx = transport.WithWebsocketCloseCode(ctx, CloseCredentialsUnchecked)
			return ctx, nil, errors.New("credentials could not be checked; try again")
		}
		watchCredentials(ctx, authn, header, p, recheck, lapsed)
		return auth.WithPrincipal(ctx, p), nil, nil
	}
}

// sessionPerEvent gives each event of a subscription its own session and
// loaders, so that its fields read the data as it is now (not a cache
// from the subscription's start) and no transaction stays open between
// events.
type sessionPerEvent struct{ db *store.DB }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = sessionPerEvent{}

func (sessionPerEvent) ExtensionName() string                   { return "SessionPerEvent" }
func (sessionPerEvent) Validate(graphql.ExecutableSchema) error { return nil }

func (s sessionPerEvent) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	p := auth.FromContext(ctx)
	if p == nil {
		return next(ctx)
	}
	sess := s.db.Session(ctx, store.Tenant{ID: p.TenantID, AppID: p.AppID})
	defer func() { _ = sess.Close() }()
	return next(loaders.With(ctx, sess))
}

// Flush lets SSE stream through the request log's recorder.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack lets a WebSocket upgrade through the request log's recorder.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	s.status = http.StatusSwitchingProtocols
	return http.NewResponseController(s.ResponseWriter).Hijack()
}

// noSubscriptions refuses a subscription over plain GraphQL over HTTP:
// it needs a stream (WebSocket or SSE), and a single response would leave
// the subscriber with one value and no way to know it ended.
type noSubscriptions struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = noSubscriptions{}

func (noSubscriptions) ExtensionName() string                   { return "NoSubscriptions" }
func (noSubscriptions) Validate(graphql.ExecutableSchema) error { return nil }

func (noSubscriptions) MutateOperationContext(_ context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if op.Operation != nil && op.Operation.Operation == ast.Subscription {
		return &gqlerror.Error{Message: "subscriptions need a WebSocket (graphql-transport-ws) or Server-Sent Events " +
			"(POST with Accept: text/event-stream)", Extensions: map[string]any{"code": codes.BadRequest}}
	}
	return nil
}

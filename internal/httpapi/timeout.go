package httpapi

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"seatgraph/internal/codes"
	"seatgraph/internal/telemetry"
)

// timeoutBody is the answer to a request that runs past its timeout.
const timeoutBody = `{"errors":[{"message":"request timed out","extensions":{"code":"` + codes.ServiceUnavailable + `"}}]}`

// withTimeout answers 503 to a request still running after d, as
// http.TimeoutHandler does, but runs the handler in the request's own
// goroutine instead of a new one: a new goroutine grows its stack anew
// through the whole of GraphQL's execution (the connection's goroutine
// keeps the stack it grew for the requests before), which cost A 17% of
// its CPU per request (bench/README.md, stop 22).
//
// The handler writes into a buffer. If it returns before the deadline,
// the buffer is the answer. At the deadline, its context ends and, if it
// is still running, a callback of the context (context.AfterFunc: a
// goroutine only then) writes the 503 and flushes it, so the client has
// it at once, with Connection: close (the connection is the handler's
// until it returns); the handler goes on until it notices, its writes
// then discarded. A handler that returns after the deadline has its answer
// replaced by the 503 too. The request's log line, written once the
// handler has returned, tells the whole of what it did, and says that the
// answer was the timeout's (the errors the handler goes on to produce
// reach no client).
func withTimeout(d time.Duration, next http.Handler) http.Handler {
	return timeoutHandler(d, timeoutBody, next)
}

// timeoutHandler is withTimeout answering body at the deadline.
func timeoutHandler(d time.Duration, body string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := telemetry.From(r.Context())
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		tw := &timeoutWriter{w: w, h: make(http.Header), req: req, body: body}
		stop := context.AfterFunc(ctx, func() {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				tw.timeout()
			}
		})
		returned := false
		defer func() {
			if !returned {
				// The handler panicked: a 503 the deadline's callback is
				// writing gets out first, and nothing is written after
				// (net/http closes the response when the panic reaches it).
				stop()
				tw.mu.Lock()
				tw.done = true
				tw.mu.Unlock()
			}
		}()
		next.ServeHTTP(tw, r.WithContext(ctx))
		returned = true
		stop()
		tw.finish(errors.Is(ctx.Err(), context.DeadlineExceeded))
	})
}

// timeoutWriter is the handler's ResponseWriter under withTimeout: its
// own header map and a buffer, handed to the real writer when the handler
// returns in time. Only one of the handler's return (finish) and the
// deadline (timeout) writes to the real writer, under mu.
type timeoutWriter struct {
	w    http.ResponseWriter
	h    http.Header
	req  *telemetry.Request
	body string // the answer at the deadline

	mu       sync.Mutex
	buf      bytes.Buffer
	code     int
	done     bool // the handler returned: the real writer is finish's
	timedOut bool // the 503 was written
}

func (t *timeoutWriter) Header() http.Header { return t.h }

func (t *timeoutWriter) WriteHeader(code int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.code == 0 {
		t.code = code
	}
}

func (t *timeoutWriter) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.timedOut {
		return 0, http.ErrHandlerTimeout
	}
	if t.code == 0 {
		t.code = http.StatusOK
	}
	return t.buf.Write(b)
}

// timeout answers 503 at the deadline, unless the handler has returned.
func (t *timeoutWriter) timeout() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.done && !t.timedOut {
		// The connection is the handler's until it returns: the client's
		// next request goes on a new one rather than wait behind it.
		t.w.Header().Set("Connection", "close")
		t.writeTimeout()
		// Sent now: the handler holds the connection's goroutine until
		// it returns.
		_ = http.NewResponseController(t.w).Flush()
	}
}

// finish writes the handler's answer, or the 503 when the deadline passed
// first.
func (t *timeoutWriter) finish(late bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.done = true
	switch {
	case t.timedOut:
	case late:
		t.writeTimeout()
	default:
		dst := t.w.Header()
		for k, v := range t.h {
			dst[k] = v
		}
		if t.code == 0 {
			t.code = http.StatusOK
		}
		t.w.WriteHeader(t.code)
		_, _ = t.w.Write(t.buf.Bytes())
	}
}

// writeTimeout writes the 503 (with its length, so that the client has
// the whole answer before the handler returns); mu is held.
func (t *timeoutWriter) writeTimeout() {
	t.timedOut = true
	t.req.TimedOut(codes.ServiceUnavailable)
	t.w.Header().Set("Content-Length", strconv.Itoa(len(t.body)))
	t.w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = t.w.Write([]byte(t.body))
}

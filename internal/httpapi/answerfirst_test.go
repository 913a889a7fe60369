package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"seatgraph/internal/apitest"
)

// heldLog is a log sink whose request lines wait until the test says the
// client has its answer (or a minute has passed); answeredFirst tells
// which came first.
type heldLog struct {
	slog.Handler
	answered      chan struct{}
	answeredFirst chan bool
}

func (h *heldLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "request" {
		select {
		case <-h.answered:
			h.answeredFirst <- true
		case <-time.After(time.Minute):
			h.answeredFirst <- false
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h *heldLog) WithAttrs(as []slog.Attr) slog.Handler {
	return &heldLog{Handler: h.Handler.WithAttrs(as), answered: h.answered, answeredFirst: h.answeredFirst}
}

// TestAnswerBeforeLogLine: a GraphQL answer reaches the client, whole and
// with its length, before the request's log line is written, so a slow
// log sink does not delay it. On the parent commit the client waits a
// minute for its answer, behind the held line.
func TestAnswerBeforeLogLine(t *testing.T) {
	h := &heldLog{Handler: slog.NewJSONHandler(io.Discard, nil), answered: make(chan struct{}), answeredFirst: make(chan bool, 1)}
	srv := apitest.NewServer(t, func(c *apitest.ServerConfig) { c.Log = slog.New(h) })
	tenant := apitest.Tenant("answerfirst")
	apitest.NewFixture(t, srv.DB, tenant).License("Answered", 3)

	r := srv.Do(t, apitest.Token(t, tenant), `{ licenses(first: 5) { nodes { name } } }`, nil)
	close(h.answered)
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("query failed (%d): %s", r.Status, r.Raw)
	}
	if got := r.Header.Get("Content-Length"); got != strconv.Itoa(len(r.Raw)) {
		t.Errorf("Content-Length %q for a %d-byte answer", got, len(r.Raw))
	}
	if !<-h.answeredFirst {
		t.Error("the request line was written before the client had its answer")
	}
}

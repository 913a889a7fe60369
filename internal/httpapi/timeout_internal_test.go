package httpapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestTimeoutAnswersWhileTheHandlerRuns: a handler that ignores its
// context's end still has its client answered 503 at the deadline (the
// handler runs in the request's goroutine, so the answer is written by
// the deadline's callback), and what it writes afterwards reaches no one;
// a handler that answers in time has its status, headers and body
// through.
func TestTimeoutAnswersWhileTheHandlerRuns(t *testing.T) {
	release, returned := make(chan struct{}), make(chan error, 1)
	slow := withTimeout(100*time.Millisecond, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		<-release
		_, err := w.Write([]byte(`{"data":{}}`))
		returned <- err
	}))
	srv := httptest.NewServer(slow)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	select {
	case <-returned:
		t.Fatal("the handler returned before the client had its answer")
	default:
	}
	if resp.StatusCode != http.StatusServiceUnavailable || string(body) != timeoutBody {
		t.Errorf("got %d %s, want 503 %s", resp.StatusCode, body, timeoutBody)
	}
	close(release)
	if err := <-returned; err != http.ErrHandlerTimeout {
		t.Errorf("the handler's write after the timeout: %v, want ErrHandlerTimeout", err)
	}

	fast := withTimeout(time.Minute, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Answer", "42")
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("short and stout"))
	}))
	srv2 := httptest.NewServer(fast)
	defer srv2.Close()
	resp, err = http.Get(srv2.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot || resp.Header.Get("X-Answer") != "42" || string(body) != "short and stout" {
		t.Errorf("in time: got %d %q %s", resp.StatusCode, resp.Header.Get("X-Answer"), body)
	}
}

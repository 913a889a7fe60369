package httpapi

import (
	"io"
	"log"
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

// holdWriter holds the deadline's 503 in WriteHeader (entered closed)
// until release is closed, and closes flushed once it is flushed.
type holdWriter struct {
	http.ResponseWriter
	entered, release, flushed chan struct{}
}

func (h *holdWriter) WriteHeader(code int) {
	close(h.entered)
	<-h.release
	h.ResponseWriter.WriteHeader(code)
}

func (h *holdWriter) Flush() {
	defer close(h.flushed)
	_ = http.NewResponseController(h.ResponseWriter).Flush()
}

// TestTimeoutHandlerPanicsWhileThe503IsWritten: a handler that panics
// while the deadline's callback is writing the 503 does not leave the
// callback writing to a response net/http has already closed (a write
// there would crash the whole server): the panic waits for the 503 to be
// out, so the client has it in full.
func TestTimeoutHandlerPanicsWhileThe503IsWritten(t *testing.T) {
	entered, release, flushed := make(chan struct{}), make(chan struct{}), make(chan struct{})
	h := withTimeout(100*time.Millisecond, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		<-entered // the deadline's callback is writing the 503
		panic("the handler fails")
	}))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&holdWriter{ResponseWriter: w, entered: entered, release: release, flushed: flushed}, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	defer srv.Close()
	type answer struct {
		status int
		body   string
		err    error
	}
	got := make(chan answer, 1)
	go func() {
		resp, err := http.Get(srv.URL)
		if err != nil {
			got <- answer{err: err}
			return
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		got <- answer{resp.StatusCode, string(body), err}
	}()
	<-entered
	// net/http deals with the panic at once unless the handler's
	// goroutine waits for the 503 (it then answers after release).
	var a answer
	select {
	case a = <-got:
		close(release)
	case <-time.After(2 * time.Second):
		close(release)
		a = <-got
	}
	<-flushed
	if a.err != nil || a.status != http.StatusServiceUnavailable || a.body != timeoutBody {
		t.Errorf("got %d %q (%v), want 503 %s", a.status, a.body, a.err, timeoutBody)
	}
}

// TestTimeoutFreesTheClientsConnection: the 503 written while the
// handler still runs closes the connection, so that the client's next
// request goes on a new one instead of waiting behind the handler (which
// holds the connection's goroutine until it returns; http.TimeoutHandler
// let the connection go at once).
func TestTimeoutFreesTheClientsConnection(t *testing.T) {
	release := make(chan struct{})
	h := withTimeout(100*time.Millisecond, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release // ignores its context's end
		}
		_, _ = w.Write([]byte(`{"data":{}}`))
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer close(release) // before srv.Close, which waits for the handler
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	get := func(path string) (int, error) {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			return 0, err
		}
		_, err = io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode, err
	}
	if status, err := get("/slow"); err != nil || status != http.StatusServiceUnavailable {
		t.Errorf("the slow request: %d %v, want 503", status, err)
	}
	next := make(chan int, 1)
	go func() {
		status, _ := get("/fast")
		next <- status
	}()
	select {
	case status := <-next:
		if status != http.StatusOK {
			t.Errorf("the next request: %d, want 200", status)
		}
	case <-time.After(30 * time.Second): // a watchdog, not a measure
		t.Error("the next request waited for the timed-out handler")
	}
}

package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"seatgraph/internal/telemetry"
)

// TestRequestLogOnPanic: a handler that panics below the request log still
// gets its one line (status 500, the panic among its problems); the panic
// goes on to net/http, which drops the connection.
func TestRequestLogOnPanic(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	h := requestLog(log, telemetry.NewMetrics(telemetry.MetricsOptions{}), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("middleware bug")
	}))
	func() {
		defer func() {
			if v := recover(); v != "middleware bug" {
				t.Errorf("the panic was not passed on: %v", v)
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/query", nil))
	}()
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("no request line after a panic: %q", buf.String())
	}
	if line["msg"] != "request" || line["status"] != float64(500) || line["level"] != "ERROR" {
		t.Errorf("request line after a panic: %v", line)
	}
	if ps, _ := line["problems"].([]any); len(ps) != 1 || ps[0].(map[string]any)["panic"] != "middleware bug" {
		t.Errorf("the line should name the panic: %v", line["problems"])
	}
}

package httpx_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"orgauth/pkg/platform/httpx"
)

// A handler that panics answers 500 server_error with no internals in the
// body; the panic and its stack go to the log with the request id, and the
// access line still records the request.
func TestMiddlewareTurnsAPanicIntoA500WithoutInternals(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := httpx.Middleware(log, func(*http.Request) string { return "req-42" }, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("secret internal state: table orgauth-prod")
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/oauth/token", nil))
	if w.Code != 500 {
		t.Fatalf("status %d", w.Code)
	}
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || len(body) != 1 || body["error"] != "server_error" {
		t.Fatalf("body %q", w.Body)
	}
	if strings.Contains(w.Body.String(), "secret") || strings.Contains(w.Body.String(), "goroutine") {
		t.Fatalf("internals in the body: %q", w.Body)
	}
	if w.Header().Get("X-Request-Id") != "req-42" {
		t.Errorf("request id header %q", w.Header().Get("X-Request-Id"))
	}
	var panicLine, accessLine map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q", l)
		}
		switch m["msg"] {
		case "panic":
			panicLine = m
		case "request":
			accessLine = m
		}
	}
	if panicLine == nil || panicLine["request_id"] != "req-42" || !strings.Contains(panicLine["stack"].(string), "panic_test.go") {
		t.Errorf("panic line %v", panicLine)
	}
	if accessLine == nil || accessLine["status"] != float64(500) {
		t.Errorf("access line %v", accessLine)
	}
}

// A panic after the handler began its answer keeps that answer's status:
// no second header is written over it.
func TestMiddlewarePanicAfterWriteKeepsTheStatus(t *testing.T) {
	log := slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))
	h := httpx.Middleware(log, nil, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		panic("late")
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != http.StatusAccepted || w.Body.Len() != 0 {
		t.Fatalf("status %d body %q", w.Code, w.Body)
	}
	if len(w.Header().Get("X-Request-Id")) != 24 {
		t.Errorf("generated request id %q", w.Header().Get("X-Request-Id"))
	}
}

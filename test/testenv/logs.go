package testenv

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"orgauth/pkg/platform/httpx"
)

// Logs are the JSON lines a stage's functions wrote.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
	log *slog.Logger
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// CaptureLogs makes the stage log JSON into the returned Logs; handlers
// built afterwards write there.
func (s *Stack) CaptureLogs() *Logs {
	l := &Logs{}
	l.log = slog.New(slog.NewJSONHandler(l, nil))
	s.Stage.Log = l.log
	return l
}

// Served is h behind the middleware every function is served through in
// Lambda and under make run (request id, source address, access line).
func (l *Logs) Served(h http.Handler) http.Handler { return httpx.Middleware(l.log, nil, h) }

// Events are the decoded lines whose event field is event.
func (l *Logs) Events(t testing.TB, event string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if m["event"] == event {
			out = append(out, m)
		}
	}
	return out
}

// AuditOf asserts that the response resp's request wrote exactly one line
// of event, carrying the request's id (X-Request-Id), the source address
// sourceIP and each of who's fields (the actor: client, user, account);
// it returns the line.
func (l *Logs) AuditOf(t testing.TB, resp *http.Response, event, sourceIP string, who map[string]string) map[string]any {
	t.Helper()
	id := resp.Header.Get("X-Request-Id")
	if id == "" {
		t.Fatalf("%s: the response has no X-Request-Id", event)
	}
	var mine []map[string]any
	for _, m := range l.Events(t, event) {
		if m["request_id"] == id {
			mine = append(mine, m)
		}
	}
	if len(mine) != 1 {
		t.Fatalf("%s: %d lines with request_id %s, want 1 (all of the event: %v)", event, len(mine), id, l.Events(t, event))
	}
	m := mine[0]
	if m["source_ip"] != sourceIP {
		t.Errorf("%s: source_ip = %v, want %s: %v", event, m["source_ip"], sourceIP, m)
	}
	for k, v := range who {
		if v == "" || m[k] != v {
			t.Errorf("%s: %s = %v, want %q: %v", event, k, m[k], v, m)
		}
	}
	return m
}

package cors

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

type fakeIndex struct {
	origins map[string]bool
	calls   int
	err     error
}

func (f *fakeIndex) OriginAllowed(_ context.Context, o string) (bool, error) {
	f.calls++
	return f.origins[o], f.err
}

func TestPreflightAndCache(t *testing.T) {
	idx := &fakeIndex{origins: map[string]bool{"https://app.example.com": true}}
	now := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	p := New(idx, time.Minute, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return now })
	h := p.Preflight("POST", "Content-Type", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(299) }))
	pre := func(origin string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodOptions, "/oauth/token", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", "POST")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := pre("https://app.example.com"); w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" || w.Header().Get("Access-Control-Allow-Methods") != "POST" {
		t.Fatalf("allowed origin: %d %v", w.Code, w.Header())
	}
	if w := pre("https://evil.example.com"); w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("other origin: %d %v", w.Code, w.Header())
	}
	if w := pre("null"); w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("opaque origin allowed")
	}
	pre("https://app.example.com")
	if idx.calls != 2 {
		t.Fatalf("index read %d times, want 2 (cached)", idx.calls)
	}
	now = now.Add(time.Minute)
	pre("https://app.example.com")
	if idx.calls != 3 {
		t.Fatalf("cache not refreshed after ttl: %d", idx.calls)
	}
	// Not a preflight: passes through.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodOptions, "/oauth/token", nil))
	if w.Code != 299 {
		t.Fatalf("plain OPTIONS: %d", w.Code)
	}
}

// An index error fails closed, even for an origin the index allows, and the
// refusal is not cached: once the index answers again, the origin is
// allowed without waiting for the TTL.
func TestIndexErrorFailsClosedAndIsNotCached(t *testing.T) {
	const o = "https://app.example.com"
	idx := &fakeIndex{origins: map[string]bool{o: true}, err: errors.New("down")}
	now := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	p := New(idx, time.Minute, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return now })
	if p.Allowed(context.Background(), o) {
		t.Fatal("allowed while the index fails")
	}
	idx.err = nil
	if !p.Allowed(context.Background(), o) {
		t.Fatal("the refusal during the failure was cached: still refused once the index answers")
	}
	if idx.calls != 2 {
		t.Fatalf("index read %d times, want 2", idx.calls)
	}
}

func TestAllowListed(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/oauth/token", nil)
	r.Header.Set("Origin", "https://app.example.com")
	w := httptest.NewRecorder()
	AllowListed(w, r, []string{"https://app.example.com"})
	if w.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" || w.Header().Get("Vary") != "Origin" {
		t.Fatalf("%v", w.Header())
	}
	w = httptest.NewRecorder()
	AllowListed(w, r, []string{"https://other.example.com"})
	if w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("%v", w.Header())
	}
}

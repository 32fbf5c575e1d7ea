package console

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

var built = fstest.MapFS{
	"dist/README.md":                {Data: []byte("placeholder")},
	"dist/app/index.html":           {Data: []byte(`<!doctype html><script type="module" src="/console/assets/index-abc.js"></script>`)},
	"dist/app/assets/index-abc.js":  {Data: []byte("console.log(1)")},
	"dist/app/assets/index-abc.css": {Data: []byte("body{}")},
}

func serve(t *testing.T, h http.Handler, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, path, nil))
	if got := w.Header().Get("Content-Security-Policy"); got != CSP {
		t.Errorf("%s %s: CSP %q", method, path, got)
	}
	if w.Header().Get("X-Content-Type-Options") != "nosniff" || w.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("%s %s: headers %v", method, path, w.Header())
	}
	return w
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestServesTheAppAndItsConfig(t *testing.T) {
	h := newHandler(Config{Issuer: "https://id.example.com", ClientID: "console-1", Audience: "orgauth:management"}, quiet, built).Routes()

	for _, p := range []string{"/console", "/console/", "/console/credentials", "/console/credentials/abc", "/console/callback"} {
		w := serve(t, h, "GET", p+"?code=x")
		if w.Code != 200 || !strings.Contains(w.Body.String(), "index-abc.js") || w.Header().Get("Cache-Control") != "no-cache" ||
			!strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
			t.Errorf("GET %s: %d %v %s", p, w.Code, w.Header(), w.Body)
		}
	}

	w := serve(t, h, "GET", "/console/config.json")
	var cfg map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &cfg); err != nil || w.Code != 200 || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("config.json: %d %s", w.Code, w.Body)
	}
	want := map[string]string{
		"issuer": "https://id.example.com", "client_id": "console-1", "audience": "orgauth:management",
		"redirect_uri": "https://id.example.com/console/callback", "post_logout_redirect_uri": "https://id.example.com/console/",
		"scope": "openid profile email offline_access",
	}
	for k, v := range want {
		if cfg[k] != v {
			t.Errorf("config.json %s = %q, want %q", k, cfg[k], v)
		}
	}

	w = serve(t, h, "GET", "/console/assets/index-abc.js")
	if w.Code != 200 || w.Body.String() != "console.log(1)" || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/javascript") ||
		!strings.Contains(w.Header().Get("Cache-Control"), "immutable") {
		t.Errorf("asset: %d %v", w.Code, w.Header())
	}
	w = serve(t, h, "GET", "/console/assets/index-abc.css")
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/css") {
		t.Errorf("css: %d %v", w.Code, w.Header())
	}
	for _, p := range []string{"/console/assets/missing.js", "/console/assets/../index.html", "/console/assets/", "/consolex"} {
		if w := serve(t, h, "GET", p); w.Code != 404 {
			t.Errorf("GET %s: %d, want 404", p, w.Code)
		}
	}
	if w := serve(t, h, "POST", "/console/"); w.Code != 405 || w.Header().Get("Allow") == "" {
		t.Errorf("POST: %d %v", w.Code, w.Header())
	}
	if w := serve(t, h, "HEAD", "/console/"); w.Code != 200 {
		t.Errorf("HEAD: %d", w.Code)
	}
}

// The console's client is the stack's own: no setting turns it off.
func TestNotConfiguredOrNotBuilt(t *testing.T) {
	h := newHandler(Config{Issuer: "https://id.example.com", Audience: "orgauth:management"}, quiet, built).Routes()
	if w := serve(t, h, "GET", "/console/config.json"); w.Code != 200 || !strings.Contains(w.Body.String(), `"client_id":"orgauth-console"`) {
		t.Errorf("config.json without a client id: %d %s", w.Code, w.Body)
	}
	placeholder := fstest.MapFS{"dist/README.md": {Data: []byte("placeholder")}}
	h = newHandler(Config{Issuer: "https://id.example.com", ClientID: "c"}, quiet, placeholder).Routes()
	if w := serve(t, h, "GET", "/console"); w.Code != 503 || !strings.Contains(w.Body.String(), "Console not built") {
		t.Errorf("not built: %d %s", w.Code, w.Body)
	}
}

// The embedded directory always exists (dist/README.md is committed), so
// New works on a clean clone too.
func TestEmbedded(t *testing.T) {
	if _, err := dist.ReadFile("dist/README.md"); err != nil {
		t.Fatal(err)
	}
	w := serve(t, New(Config{Issuer: "http://127.0.0.1:3000", ClientID: "c"}, quiet).Routes(), "GET", "/console/")
	if w.Code != 200 && w.Code != 503 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

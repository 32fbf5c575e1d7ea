package httpx

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

const testOriginSecret = "0123456789abcdef0123456789abcdef-origin"

func testEdge(t *testing.T) Edge {
	t.Helper()
	sum := sha256.Sum256([]byte(testOriginSecret))
	e, err := NewEdge(hex.EncodeToString(sum[:]))
	if err != nil || !e.Enabled() {
		t.Fatalf("NewEdge: %v", err)
	}
	return e
}

// serve runs a request through Guard and Middleware, as lambdahttp does,
// and returns the status and the client address the handler saw.
func serve(e Edge, header map[string]string) (int, string, http.Header) {
	var seen string
	var seenHeader http.Header
	h := e.Guard(Middleware(slog.New(slog.NewJSONHandler(io.Discard, nil)), nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, seenHeader = SourceIPFrom(r.Context()), r.Header.Clone()
		if SourceIP(r) != seen {
			seen = "mismatch: " + SourceIP(r)
		}
	})))
	r := httptest.NewRequest(http.MethodPost, "/oauth/token", nil)
	r.RemoteAddr = "130.176.0.10" // an edge server, as API Gateway sees it
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, seen, seenHeader
}

// TestEdgeTakesTheViewerAddressOnlyWithTheSecret: behind CloudFront, the
// client address is CloudFront-Viewer-Address, so two clients behind one
// edge server are two addresses; a request without the secret is refused.
func TestEdgeTakesTheViewerAddressOnlyWithTheSecret(t *testing.T) {
	e := testEdge(t)
	for _, c := range []struct{ viewer, want string }{
		{"198.51.100.7:46532", "198.51.100.7"},
		{"203.0.113.9:443", "203.0.113.9"},
		{"2001:db8::1:46532", "2001:db8::1"},
		{"[2001:db8::2]:8443", "2001:db8::2"},
		{"not-an-address:1", "130.176.0.10"}, // unparseable: the edge server's
		{"", "130.176.0.10"},
	} {
		code, ip, hdr := serve(e, map[string]string{OriginVerifyHeader: testOriginSecret, ViewerAddressHeader: c.viewer})
		if code != http.StatusOK || ip != c.want {
			t.Errorf("viewer %q: status %d, address %q, want %q", c.viewer, code, ip, c.want)
		}
		if hdr.Get(OriginVerifyHeader) != "" {
			t.Errorf("the origin secret reached the handler")
		}
	}
	for name, h := range map[string]map[string]string{
		"no secret":    {ViewerAddressHeader: "198.51.100.7:1"},
		"wrong secret": {OriginVerifyHeader: testOriginSecret + "x", ViewerAddressHeader: "198.51.100.7:1"},
		"empty secret": {OriginVerifyHeader: ""},
	} {
		if code, ip, _ := serve(e, h); code != http.StatusForbidden || ip != "" {
			t.Errorf("%s: status %d, handler saw %q; want 403 before the handler", name, code, ip)
		}
	}
}

// TestNoEdgeIgnoresViewerAddress: without the edge, a client's own
// CloudFront-Viewer-Address (a spoof) changes nothing.
func TestNoEdgeIgnoresViewerAddress(t *testing.T) {
	code, ip, _ := serve(Edge{}, map[string]string{ViewerAddressHeader: "198.51.100.7:1"})
	if code != http.StatusOK || ip != "130.176.0.10" {
		t.Fatalf("status %d, address %q", code, ip)
	}
}

func TestNewEdgeRefusesBadHashes(t *testing.T) {
	for _, bad := range []string{"abc", "zz" + hex.EncodeToString(make([]byte, 31)), hex.EncodeToString(make([]byte, 16))} {
		if _, err := NewEdge(bad); err == nil {
			t.Errorf("NewEdge(%q) accepted", bad)
		}
	}
	if e, err := NewEdge(""); err != nil || e.Enabled() {
		t.Errorf("empty: %v %v", e, err)
	}
}

package upstream

import (
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

func TestReachAllows(t *testing.T) {
	public := []string{"8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "93.184.215.14"}
	nonPublic := []string{
		"127.0.0.1", "127.8.9.10", "::1", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1",
		"169.254.169.254", "fe80::1", "fd00::1", "fc00::1", "100.64.0.1", "0.0.0.0", "::", "255.255.255.255",
		"224.0.0.1", "ff02::1", "192.0.2.1", "198.18.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
		"64:ff9b::a00:1", "2002:a00:1::", "2001::1", "2001:db8::1", "fec0::1",
	}
	for _, s := range public {
		if !reachPublic.allowed(netip.MustParseAddr(s)) {
			t.Errorf("public reach refuses %s", s)
		}
		if reachLoopback.allowed(netip.MustParseAddr(s)) {
			t.Errorf("loopback reach allows %s", s)
		}
	}
	for _, s := range nonPublic {
		if reachPublic.allowed(netip.MustParseAddr(s)) {
			t.Errorf("public reach allows %s", s)
		}
	}
	for _, s := range []string{"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"} {
		if !reachLoopback.allowed(netip.MustParseAddr(s)) {
			t.Errorf("loopback reach refuses %s", s)
		}
	}
	for _, s := range []string{"10.0.0.1", "169.254.169.254", "192.168.1.1", "fd00::1"} {
		if reachLoopback.allowed(netip.MustParseAddr(s)) {
			t.Errorf("loopback reach allows %s", s)
		}
	}
	if reachOf("http://127.0.0.1:9000") != reachLoopback || reachOf("http://localhost:9000/x") != reachLoopback ||
		reachOf("https://127.0.0.1.evil.example") != reachPublic || reachOf("https://idp.example") != reachPublic {
		t.Error("reachOf")
	}
}

type stubRT struct{ body string }

func (s stubRT) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, ContentLength: -1, Body: io.NopCloser(strings.NewReader(s.body))}, nil
}

// Item 4: the key set and the token response are bounded to 1 MiB, the
// discovery document to 256 KiB; an answer exactly at its bound is read.
func TestBoundedTransport(t *testing.T) {
	for _, c := range []struct {
		path  string
		size  int
		large bool
	}{
		{"/.well-known/openid-configuration", MaxDiscoveryBytes, false},
		{"/.well-known/openid-configuration", MaxDiscoveryBytes + 1, true},
		{"/jwks", MaxResponseBytes, false},
		{"/jwks", MaxResponseBytes + 1, true},
		{"/token", 3 << 20, true},
	} {
		req, _ := http.NewRequest("GET", "https://idp.example"+c.path, nil)
		resp, err := boundedTransport{stubRT{strings.Repeat("a", c.size)}}.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		if got := errors.Is(err, ErrTooLarge); got != c.large {
			t.Errorf("%s of %d bytes: %v", c.path, c.size, err)
		}
		if len(b) > MaxResponseBytes {
			t.Errorf("%s: read %d bytes", c.path, len(b))
		}
	}
}

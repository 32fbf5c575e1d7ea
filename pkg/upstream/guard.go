package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"orgauth/pkg/domain"
)

// Every provider is run by an organization, so it may be hostile: what it
// serves is read up to a bound, and orgauth connects only where a provider
// on the public internet can be.

// Bounds on what a provider's answer may weigh. A larger answer fails as
// soon as the bound is crossed, without being read further.
const (
	// MaxDiscoveryBytes bounds a discovery document.
	MaxDiscoveryBytes = 256 << 10
	// MaxResponseBytes bounds every other answer: the key set, the token
	// response.
	MaxResponseBytes = 1 << 20
)

// ErrTooLarge is a provider's answer over its bound.
var ErrTooLarge = errors.New("the provider's answer is larger than orgauth accepts")

// ErrAddressNotAllowed is a connection refused because of where it would
// go: a loopback, private, link-local or otherwise non-public address (or,
// for a loopback issuer, anything but loopback).
var ErrAddressNotAllowed = errors.New("the provider's address is not a public internet address")

// Resolver resolves host names; *net.Resolver implements it. Tests give a
// fake.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// reach is where connections for one issuer may go.
type reach int

const (
	reachPublic   reach = iota // public addresses only
	reachLoopback              // loopback only: an issuer on this machine
)

// reachOf is the reach of issuer: loopback when the issuer itself is
// loopback (localhost or a loopback address), public otherwise.
func reachOf(issuer string) reach {
	if u, err := url.Parse(issuer); err == nil && domain.IsLoopback(u.Hostname()) {
		return reachLoopback
	}
	return reachPublic
}

// nonPublic are the IPv4 and IPv6 ranges that are not the public internet,
// beyond what netip.Addr's own predicates name (RFC 6890 and its IPv6
// counterpart), and the IPv6 ranges that embed an IPv4 address an attacker
// chooses.
var nonPublic = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",         // "this network"
		"100.64.0.0/10",     // shared address space (carrier-grade NAT)
		"192.0.0.0/24",      // IETF protocol assignments
		"192.0.2.0/24",      // documentation
		"198.18.0.0/15",     // benchmarking
		"198.51.100.0/24",   // documentation
		"203.0.113.0/24",    // documentation
		"240.0.0.0/4",       // reserved, and broadcast
		"64:ff9b::/96",      // NAT64: an IPv4 address behind it
		"64:ff9b:1::/48",    // local-use NAT64
		"100::/64",          // discard-only
		"2001::/23",         // IETF protocol assignments, Teredo among them
		"2001:db8::/32",     // documentation
		"2002::/16",         // 6to4: an IPv4 address behind it
		"fc00::/7",          // unique local (ULA)
		"fec0::/10",         // site-local (deprecated)
		"::ffff:0:0/96",     // IPv4-mapped, checked as IPv4 below
		"::/128", "::1/128", // unspecified, loopback
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// publicAddr reports whether ip is a public unicast internet address.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() ||
		ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// allowed reports whether a connection of reach r may go to ip.
func (r reach) allowed(ip netip.Addr) bool {
	if r == reachLoopback {
		return ip.Unmap().IsLoopback()
	}
	return publicAddr(ip)
}

// control is the net.Dialer's Control: it sees the address after name
// resolution, just before the connection is made, and refuses what r does
// not allow.
func (r reach) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrAddressNotAllowed, address)
	}
	if !r.allowed(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrAddressNotAllowed, ap.Addr())
	}
	return nil
}

// dialer connects for one reach: it resolves the host through resolver,
// then dials the addresses in turn, each checked at dial time by control.
type dialer struct {
	reach    reach
	resolver Resolver
	net      net.Dialer
}

func (d *dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	var ips []net.IPAddr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []net.IPAddr{{IP: net.IP(ip.AsSlice()), Zone: ip.Zone()}}
	} else if ips, err = d.resolver.LookupIPAddr(ctx, host); err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("%s has no address", host)
	}
	var errs []error
	for _, ip := range ips {
		c, err := d.net.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// newHTTPClient is the HTTP client for providers of reach r: no proxy
// (which would connect on orgauth's behalf, unchecked), no redirects (a
// provider's endpoints answer directly), every answer bounded.
func newHTTPClient(r reach, resolver Resolver, timeout time.Duration) *http.Client {
	d := &dialer{reach: r, resolver: resolver, net: net.Dialer{Timeout: timeout, Control: r.control}}
	t := &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           20,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Timeout:   timeout,
		Transport: boundedTransport{t},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// boundedTransport bounds every response body: a discovery document to
// MaxDiscoveryBytes, anything else to MaxResponseBytes. go-oidc and
// x/oauth2 read what they are given; reading past the bound is an error
// (ErrTooLarge), and so is a Content-Length over it, before any read.
type boundedTransport struct{ next http.RoundTripper }

func (t boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	limit := int64(MaxResponseBytes)
	if strings.HasSuffix(req.URL.Path, "/.well-known/openid-configuration") {
		limit = MaxDiscoveryBytes
	}
	if resp.ContentLength > limit {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %s announces %d bytes, at most %d", ErrTooLarge, req.URL.Redacted(), resp.ContentLength, limit)
	}
	resp.Body = &boundedBody{rc: resp.Body, left: limit, limit: limit, url: req.URL.Redacted()}
	return resp, nil
}

// boundedBody reads at most limit bytes, then fails.
type boundedBody struct {
	rc    io.ReadCloser
	left  int64 // bytes that may still be read
	limit int64
	url   string
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, fmt.Errorf("%w: %s is over %d bytes", ErrTooLarge, b.url, b.limit)
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1] // one byte more than allowed tells a body at the bound from one over it
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n - 1, fmt.Errorf("%w: %s is over %d bytes", ErrTooLarge, b.url, b.limit)
	}
	return n, err
}

func (b *boundedBody) Close() error { return b.rc.Close() }

// checkEndpoint requires an endpoint a provider's discovery document names
// to be https, or, for a loopback issuer, http or https on loopback. Where
// it resolves to is checked when connecting.
func checkEndpoint(r reach, name, raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "":
		return fmt.Errorf("%s %q is not an absolute URL", name, raw)
	case u.User != nil:
		return fmt.Errorf("%s %q must not carry userinfo", name, raw)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && r == reachLoopback && domain.IsLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("%s %q must be https", name, raw)
}

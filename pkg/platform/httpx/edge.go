package httpx

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"

	"net/http"
	"net/netip"
	"strings"
)

// OriginVerifyHeader carries the origin secret that CloudFront adds to
// every request it forwards (the template's EdgeDistribution).
const OriginVerifyHeader = "X-Origin-Verify"

// ViewerAddressHeader is CloudFront's client address, "ip:port" (IPv6
// unbracketed: the port follows the last colon).
const ViewerAddressHeader = "CloudFront-Viewer-Address"

// Edge is the stage's CloudFront front door. The zero Edge is off: the
// client address is the one API Gateway saw, and CloudFront headers are
// ignored (anyone can send them).
type Edge struct {
	secretSHA256 [sha256.Size]byte
	on           bool
}

// NewEdge turns the edge on for the SHA-256 (hex) of the origin secret;
// empty leaves it off. The functions hold only the hash, so their
// configuration does not reveal the secret.
func NewEdge(secretSHA256Hex string) (Edge, error) {
	if secretSHA256Hex == "" {
		return Edge{}, nil
	}
	b, err := hex.DecodeString(strings.ToLower(secretSHA256Hex))
	if err != nil || len(b) != sha256.Size {
		return Edge{}, errors.New("want the 64 hex digits of the origin secret's SHA-256")
	}
	e := Edge{on: true}
	copy(e.secretSHA256[:], b)
	return e, nil
}

// Enabled reports whether requests must come through CloudFront.
func (e Edge) Enabled() bool { return e.on }

// verified reports whether r carries the origin secret.
func (e Edge) verified(r *http.Request) bool {
	v := r.Header.Get(OriginVerifyHeader)
	if v == "" {
		return false
	}
	sum := sha256.Sum256([]byte(v))
	return subtle.ConstantTimeCompare(sum[:], e.secretSHA256[:]) == 1
}

// Guard, with the edge on, refuses (403) every request without the origin
// secret, so the API's own URL is no way around CloudFront's WAF, and takes
// the client address from CloudFront-Viewer-Address on the others, so that
// per-address throttles and audit lines see clients, not edge servers.
// The secret header never reaches next. With the edge off, it changes
// nothing, and a CloudFront-Viewer-Address a client sent is ignored.
func (e Edge) Guard(next http.Handler) http.Handler {
	if !e.on {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := e.verified(r)
		r.Header.Del(OriginVerifyHeader)
		if !ok {
			WriteJSON(w, http.StatusForbidden, map[string]string{"error": "access_denied",
				"error_description": "requests must come through the stage's domain"})
			return
		}
		if addr, ok := viewerAddress(r.Header.Get(ViewerAddressHeader)); ok {
			r.RemoteAddr = addr
		}
		next.ServeHTTP(w, r)
	})
}

// viewerAddress parses CloudFront-Viewer-Address ("198.51.100.7:46532",
// "2001:db8::1:46532") into the address alone.
func viewerAddress(v string) (string, bool) {
	i := strings.LastIndexByte(v, ':')
	if i <= 0 {
		return "", false
	}
	host := strings.Trim(v[:i], "[]")
	a, err := netip.ParseAddr(host)
	if err != nil {
		return "", false
	}
	return a.Unmap().String(), true
}

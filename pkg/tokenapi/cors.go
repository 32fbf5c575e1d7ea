package tokenapi

import (
	"net/http"
	"slices"

	"orgauth/pkg/domain"
)

// CORS on /oauth/token and /oauth/revoke (DESIGN: only for an application's
// allowed origins).
//
// A preflight (Fetch §3.2.2: OPTIONS with Origin and
// Access-Control-Request-Method) carries no client_id, so it cannot be
// matched to an application without an origin index. It is answered for any
// origin instead, and that grants nothing:
//   - the preflight only says the server understands CORS for POST with
//     these headers; the browser still withholds the actual response unless
//     that response carries Access-Control-Allow-Origin (Fetch §3.2.4, the
//     CORS check);
//   - no Access-Control-Allow-Credentials is ever sent: these endpoints use
//     no cookies, so no ambient authority is exposed;
//   - a form POST is a CORS-safelisted request that any page may send
//     without a preflight anyway: the preflight was never the guard.
//
// The actual response carries Access-Control-Allow-Origin (and Vary:
// Origin) only when the Origin is in the authenticated client's
// allowed_origins, so another site's script cannot read tokens, errors or
// revocation results of a client that did not list it.

const preflightMaxAge = "600"

// preflight answers CORS preflights and passes every other request on.
func preflight(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodOptions || r.Header.Get("Origin") == "" || r.Header.Get("Access-Control-Request-Method") == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		h.Set("Access-Control-Allow-Methods", "POST")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		h.Set("Access-Control-Max-Age", preflightMaxAge)
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	})
}

// allowOrigin lets the browser expose the response to the request's Origin
// when the client lists it. Origins compare exactly (RFC 6454 §5 ASCII
// serialization, as the applications API stores them).
func allowOrigin(w http.ResponseWriter, r *http.Request, client domain.Application) {
	origin := r.Header.Get("Origin")
	w.Header().Add("Vary", "Origin")
	if origin != "" && slices.Contains(client.AllowedOrigins, origin) {
		w.Header().Set("Access-Control-Allow-Origin", origin)
	}
}

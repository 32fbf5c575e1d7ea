package token

import (
	"orgauth/pkg/platform/cors"
)

// CORS on /oauth/token and /oauth/revoke (DESIGN: only for an application's
// allowed origins). A preflight carries no client_id, so it is answered for
// an origin that some application allows (the origin index); the actual
// response carries Access-Control-Allow-Origin only when the Origin is in
// the authenticated client's own allowed_origins, so another application's
// origin cannot read this client's tokens or errors.

// WithCORS sets the policy that answers preflights. Without one, every
// preflight is refused.
func (h *Handler) WithCORS(p *cors.Policy) *Handler {
	h.cors = p
	return h
}

package applications

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"orgauth/pkg/domain"
	"orgauth/pkg/jwt"
	"orgauth/pkg/platform/httpx"
)

// caller is who presented the bearer token.
type caller struct {
	Subject  string // user id, or the client id of an M2M token
	ClientID string
	OrgID    string
	// Machine is true for client_credentials tokens (RFC 9068 §2.2: sub is
	// the client id when no resource owner is involved).
	Machine bool
}

// bearer extracts an RFC 6750 §2.1 bearer token.
func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// authenticate verifies the bearer token for the management audience and,
// for a user token, that the user still exists, is enabled and belongs to the
// token's organization.
func (h *Handler) authenticate(ctx context.Context, r *http.Request) (caller, *httpx.Problem, string) {
	raw, ok := bearer(r)
	if !ok {
		return caller{}, &httpx.Problem{Status: http.StatusUnauthorized, Detail: "a bearer access token for the management API is required"},
			`Bearer realm="orgauth"`
	}
	fail := func(desc string) (caller, *httpx.Problem, string) {
		return caller{}, &httpx.Problem{Status: http.StatusUnauthorized, Detail: desc},
			`Bearer realm="orgauth", error="invalid_token", error_description="` + desc + `"`
	}
	claims, err := h.tokens.VerifyAccessToken(ctx, raw, h.cfg.Audience)
	if errors.Is(err, jwt.ErrInvalidToken) {
		h.log.InfoContext(ctx, "bearer token refused", "request_id", httpx.RequestID(ctx), "reason", err.Error())
		return fail("the access token is invalid or expired, or not for this API")
	}
	if err != nil {
		return caller{}, &httpx.Problem{Status: http.StatusServiceUnavailable, Detail: "cannot verify tokens right now; retry shortly"}, ""
	}
	switch revoked, err := h.store.IsJTIRevoked(ctx, claims.ID, h.now()); {
	case err != nil:
		return caller{}, &httpx.Problem{Status: http.StatusServiceUnavailable, Detail: "cannot check the token right now; retry shortly"}, ""
	case revoked:
		return fail("the access token has been revoked")
	}
	c := caller{Subject: claims.Subject, ClientID: claims.ClientID, OrgID: claims.OrgID, Machine: claims.Subject == claims.ClientID}
	if !c.Machine {
		if h.cfg.UserClientID == "" || c.ClientID != h.cfg.UserClientID {
			return fail("a user's token for the management API must come from the developer console")
		}
		u, err := h.store.GetUser(ctx, c.Subject)
		_, err = domain.SignInUser(u, err, c.OrgID)
		switch {
		case errors.Is(err, domain.ErrUserGone):
			return fail("the user of this token no longer exists")
		case errors.Is(err, domain.ErrUserDisabled):
			return fail("the user of this token is disabled")
		case errors.Is(err, domain.ErrUserNotMember):
			return fail("the token's organization does not match its user")
		case err != nil:
			return caller{}, &httpx.Problem{Status: http.StatusServiceUnavailable, Detail: "cannot check the user right now; retry shortly"}, ""
		}
	}
	return c, nil, ""
}

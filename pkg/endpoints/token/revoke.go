package token

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"orgauth/pkg/platform/cors"
	"slices"

	"orgauth/pkg/domain"
	"orgauth/pkg/jwt"
	"orgauth/pkg/oauth"
	"orgauth/pkg/platform/httpx"
)

// revoke is POST /oauth/revoke, RFC 7009. It runs the token endpoint's
// parse and client authentication steps; public (SPA) clients identify with
// client_id alone.
//
//   - A refresh token revokes its whole family and the access tokens issued
//     from it (§2.1: "If the token passed to the request is a refresh
//     token and the authorization server supports the revocation of access
//     tokens, then the authorization server SHOULD also invalidate all
//     access tokens based on the same authorization grant").
//   - An access token puts its jti on the revoked list until it expires.
//   - An unknown, expired or malformed token is answered 200 (§2.2: "invalid
//     tokens do not cause an error response").
//   - A token of another client is refused with unauthorized_client (§2.1:
//     "verifies whether the token was issued to the client making the
//     revocation request. If this validation fails, the request is
//     refused").
func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		oauth.NoStore(w)
		httpx.MethodNotAllowed(w, http.MethodPost)
		return
	}
	req, err := h.revokeRequest(r)
	if req != nil {
		cors.AllowListed(w, r, req.client.AllowedOrigins)
	}
	if err != nil {
		oauth.WriteError(w, r, h.log, err)
		return
	}
	oauth.NoStore(w)
	w.WriteHeader(http.StatusOK)
}

func (h *Handler) revokeRequest(r *http.Request) (*request, error) {
	form, err := oauth.ParseBody(r)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	raw := form.Get("token")
	req, err := h.authenticateRequest(r, form, true)
	if err != nil {
		var unknown unknownClient
		if errors.As(err, &unknown) && unknown.id != "" && raw != "" {
			if gone, gerr := h.revokeOfDeletedClient(ctx, unknown.id, raw); gone || gerr != nil {
				return nil, gerr
			}
		}
		return nil, err
	}
	if raw == "" {
		return req, oauth.InvalidRequest("token is required")
	}
	// §2.1: the hint only speeds up the lookup; a wrong one is no error.
	order := []tokenRevoker{h.revokeRefreshToken, h.revokeAccessToken}
	if form.Get("token_type_hint") == "access_token" {
		order = []tokenRevoker{h.revokeAccessToken, h.revokeRefreshToken}
	}
	_, err = revokeFirst(ctx, order, req.client.ClientID, raw)
	return req, err
}

// revokeFirst tries the revokers in order until one finds raw.
func revokeFirst(ctx context.Context, order []tokenRevoker, clientID, raw string) (found bool, err error) {
	for _, try := range order {
		if found, err := try(ctx, clientID, raw); err != nil || found {
			return found, err
		}
	}
	return false, nil
}

// tokenRevoker revokes raw if it is a token of its kind issued to
// clientID. found reports a token of that kind; one issued to another
// client is found and refused with errOtherClient.
type tokenRevoker func(ctx context.Context, clientID, raw string) (found bool, err error)

// errOtherClient refuses the revocation of another client's token.
var errOtherClient = oauth.UnauthorizedClient("the token was not issued to this client")

func (h *Handler) revokeRefreshToken(ctx context.Context, clientID, raw string) (bool, error) {
	now := h.now()
	rt, err := h.store.GetRefreshToken(ctx, domain.HashSecret(raw), now)
	if errors.Is(err, domain.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load refresh token: %w", err)
	}
	if rt.ClientID != clientID {
		return true, errOtherClient
	}
	if err := h.revokeFamily(ctx, rt.FamilyID, now); err != nil {
		return true, err
	}
	return true, nil
}

func (h *Handler) revokeAccessToken(ctx context.Context, clientID, raw string) (bool, error) {
	claims, ok, err := h.accessClaims(ctx, raw)
	if err != nil || !ok {
		return false, err
	}
	if claims.ClientID != clientID {
		return true, errOtherClient
	}
	if err := h.store.RevokeJTI(ctx, claims.ID, claims.Expiry.Time()); err != nil {
		return true, fmt.Errorf("revoke jti: %w", err)
	}
	h.log.InfoContext(ctx, "access token revoked", "event", "access_revoked", "request_id", httpx.RequestID(ctx),
		"source_ip", httpx.SourceIPFrom(ctx), "client_id", clientID, "jti", claims.ID)
	return true, nil
}

// accessClaims verifies raw as an unexpired access token of this server,
// for any of its audiences (the APIs, or the issuer itself for a sign-in
// that asked for none). ok is false for anything else.
func (h *Handler) accessClaims(ctx context.Context, raw string) (claims jwt.AccessClaims, ok bool, err error) {
	audiences := slices.Clone(h.cfg.Audiences)
	if h.cfg.Issuer != "" {
		audiences = append(audiences, h.cfg.Issuer)
	}
	for _, aud := range audiences {
		claims, err := h.verifier.VerifyAccessToken(ctx, raw, aud)
		if errors.Is(err, jwt.ErrInvalidToken) {
			continue
		}
		if err != nil {
			return claims, false, fmt.Errorf("verify access token: %w", err)
		}
		return claims, true, nil
	}
	return jwt.AccessClaims{}, false, nil
}

// revokeOfDeletedClient answers a revocation whose client failed to
// authenticate because no application has its id, as when it was deleted:
// RFC 7009 §2.2, the token is invalid already (every check refuses a
// deleted application's tokens), which is "no error". Only a caller that
// presents a token issued to that very client gets this answer, so client
// ids cannot be probed with it; the token is revoked all the same. gone is
// false when the token is no token of that client.
func (h *Handler) revokeOfDeletedClient(ctx context.Context, clientID, raw string) (gone bool, err error) {
	found, err := revokeFirst(ctx, []tokenRevoker{h.revokeRefreshToken, h.revokeAccessToken}, clientID, raw)
	if errors.Is(err, errOtherClient) {
		return false, nil
	}
	return found, err
}

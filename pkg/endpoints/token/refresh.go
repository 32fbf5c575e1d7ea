package token

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/oauth"
	"orgauth/pkg/platform/httpx"
)

// refreshToken is RFC 6749 §6 with rotation (RFC 9700 §4.14.2): every use
// marks the presented token rotated, with one conditional write that exactly
// one request wins, and issues a successor in the same family.
//
// Reuse of a rotated token:
//   - within RefreshReuseGrace of its rotation it is refused with
//     invalid_grant and nothing is revoked. Two tabs of one SPA refreshing
//     at once, or a retry after a response lost in flight, must not sign the
//     user out; re-issuing instead would hand a second live branch of the
//     family to whoever holds the old token, so it is refused. A client whose
//     response was lost signs in again (usually silently, through its SSO
//     session);
//   - after the grace it is treated as theft: the whole family is revoked,
//     with the access tokens issued from it, and invalid_grant is returned.
func (h *Handler) refreshToken(ctx context.Context, req *request) (*tokenResponse, error) {
	app := req.client
	if app.Type != domain.ClientSPA {
		return nil, oauth.UnauthorizedClient("only SPA applications get refresh tokens")
	}
	raw := req.form.Get("refresh_token")
	if raw == "" {
		return nil, oauth.InvalidRequest("refresh_token is required")
	}
	now := h.now()
	hash := domain.HashSecret(raw)
	rt, err := h.store.GetRefreshToken(ctx, hash, now)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, oauth.InvalidGrant("the refresh token is invalid or expired")
	}
	if err != nil {
		return nil, fmt.Errorf("load refresh token: %w", err)
	}
	// §6: "validate the refresh token and ensure that it was issued to the
	// authenticated client" (for public clients: the client_id sent).
	if rt.ClientID != app.ClientID {
		return nil, oauth.InvalidGrant("the refresh token was issued to another client")
	}
	family, err := h.store.GetRefreshFamily(ctx, rt.FamilyID, now)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return nil, oauth.InvalidGrant("the refresh token is invalid or expired")
	case err != nil:
		return nil, fmt.Errorf("load refresh family: %w", err)
	}
	switch err := rt.Usable(family, now); {
	case errors.Is(err, domain.ErrRefreshRotated):
		return nil, h.reuse(ctx, rt, now)
	case errors.Is(err, domain.ErrRefreshRevoked), errors.Is(err, domain.ErrRefreshIdle):
		return nil, oauth.InvalidGrant(err.Error())
	case err != nil:
		return nil, oauth.InvalidGrant("the refresh token is invalid or expired")
	}
	app = app.ForOrganization(rt.OrganizationID)
	user, err := h.activeUser(ctx, rt.UserID, app.OrganizationID)
	if err != nil {
		return nil, err
	}
	// What the user may hold now: a role changed since sign-in, or a
	// scope the application or the API dropped, narrows the grant.
	held, err := h.heldScopes(ctx, app, user.Role, rt.Audience, rt.Scopes)
	if err != nil {
		return nil, err
	}
	// §6: the requested scope "MUST NOT include any scope not originally
	// granted by the resource owner, and if omitted is treated as equal to
	// the scope originally granted".
	var narrowed []string
	if s := req.form.Get("scope"); s != "" {
		scope := oauth.ParseScope(s)
		if _, ok := scope.NotIn(rt.Scopes); ok {
			return nil, oauth.InvalidScope("a requested scope was not granted to this refresh token")
		}
		narrowed = []string{}
		for _, s := range scope {
			if slices.Contains(held, s) {
				narrowed = append(narrowed, s)
			}
		}
	}
	// The audience (RFC 8707 resource) of a refresh must be one the sign-in
	// granted; nothing else is ever issued from a refresh token.
	audience, err := oauth.Target(req.form.Get("audience"), req.form.Get("resource"))
	if err != nil {
		return nil, err
	}
	if granted := cmp.Or(rt.Audience, h.cfg.Issuer); audience != "" && audience != granted {
		return nil, oauth.InvalidTarget("the audience was not granted to this refresh token; sign in again for another API")
	}
	// The presented token is marked used only once the new tokens are
	// signed (commit): a KMS throttle or failure answers 503 and leaves it
	// usable, so the client's retry is not mistaken for reuse.
	committed := false
	commit := func(ctx context.Context) error {
		committed = true
		rotated, err := h.store.RotateRefreshToken(ctx, hash, now)
		switch {
		case errors.Is(err, domain.ErrAlreadyUsed):
			return h.reuse(ctx, rotated, now) // lost the race to a concurrent use
		case errors.Is(err, domain.ErrNotFound):
			return oauth.InvalidGrant("the refresh token is invalid or expired")
		case err != nil:
			return fmt.Errorf("rotate refresh token: %w", err)
		}
		return nil
	}
	resp, claims, err := h.issueUserTokens(ctx, grant{
		app: app, user: user, scopes: held, narrowed: narrowed, audience: rt.Audience, authTime: rt.AuthTime, family: &family,
		commit: commit,
	}, now)
	var oe *oauth.Error
	if err != nil && !committed && !errors.As(err, &oe) {
		return nil, &oauth.Error{Code: "temporarily_unavailable", Status: http.StatusServiceUnavailable, RetryAfter: 1,
			Description: "the token could not be issued right now; retry shortly with the same refresh token", Cause: err}
	}
	if err != nil {
		return nil, err
	}
	h.log.InfoContext(ctx, "token issued", "event", "token_issued", "request_id", httpx.RequestID(ctx),
		"source_ip", httpx.SourceIPFrom(ctx), "grant_type", "refresh_token", "client_type", string(app.Type), "client_id", app.ClientID,
		"user_id", user.ID, "jti", claims.ID, "family_id", family.ID)
	return resp, nil
}

// reuse handles a rotated refresh token presented again; see refreshToken.
func (h *Handler) reuse(ctx context.Context, rt domain.RefreshToken, now time.Time) error {
	if now.Sub(rt.RotatedAt) <= h.cfg.RefreshReuseGrace {
		h.log.InfoContext(ctx, "rotated refresh token reused within the grace period", "event", "refresh_reuse_grace",
			"request_id", httpx.RequestID(ctx), "source_ip", httpx.SourceIPFrom(ctx), "client_id", rt.ClientID,
			"user_id", rt.UserID, "family_id", rt.FamilyID)
		return oauth.InvalidGrant("the refresh token has already been used")
	}
	h.log.WarnContext(ctx, "rotated refresh token reused: revoking its family", "event", "refresh_reuse",
		"request_id", httpx.RequestID(ctx), "source_ip", httpx.SourceIPFrom(ctx), "client_id", rt.ClientID,
		"user_id", rt.UserID, "family_id", rt.FamilyID)
	if err := h.revokeFamily(ctx, rt.FamilyID, now); err != nil {
		return err
	}
	return oauth.InvalidGrant("the refresh token has already been used; its grant has been revoked")
}

package token

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"orgauth/pkg/domain"
	"orgauth/pkg/oauth"
	"orgauth/pkg/platform/httpx"
)

// introspection is an RFC 7662 §2.2 response. An inactive token is
// {"active": false} and nothing else: §2.2 "the authorization server
// SHOULD NOT include any additional information about an inactive token".
type introspection struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Subject   string   `json:"sub,omitempty"`
	Audience  []string `json:"aud,omitempty"`
	Issuer    string   `json:"iss,omitempty"`
	Expiry    int64    `json:"exp,omitempty"`
	IssuedAt  int64    `json:"iat,omitempty"`
	JTI       string   `json:"jti,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	OrgID     string   `json:"org_id,omitempty"`
}

var inactive = introspection{Active: false}

// introspect is POST /oauth/introspect, RFC 7662, for authenticated M2M
// clients (the resource servers of an organization): §2.1 "the endpoint
// MUST also require some form of authorization to access this endpoint".
// A token is active for a caller only if it belongs to the caller's
// organization; expired, revoked, foreign and malformed tokens all read
// {"active": false}, without saying which.
func (h *Handler) introspect(w http.ResponseWriter, r *http.Request) {
	oauth.NoStore(w)
	if r.Method != http.MethodPost {
		httpx.MethodNotAllowed(w, http.MethodPost)
		return
	}
	resp, err := h.introspectRequest(r)
	if err != nil {
		oauth.WriteError(w, r, h.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, resp)
}

func (h *Handler) introspectRequest(r *http.Request) (introspection, error) {
	form, err := oauth.ParseForm(r)
	if err != nil {
		return inactive, err
	}
	// Confidential clients only: a public client cannot authenticate.
	req, err := h.authenticateRequest(r, form, false)
	if err != nil {
		return inactive, err
	}
	if req.client.Type != domain.ClientM2M {
		return inactive, oauth.UnauthorizedClient("only M2M applications may introspect tokens")
	}
	raw := form.Get("token")
	if raw == "" {
		return inactive, oauth.InvalidRequest("token is required")
	}
	ctx := r.Context()
	org := req.client.OrganizationID
	// §2.1: token_type_hint is only a hint; both kinds are tried.
	if resp, ok, err := h.introspectAccess(ctx, raw, org); err != nil || ok {
		return resp, err
	}
	resp, _, err := h.introspectRefresh(ctx, raw, org)
	return resp, err
}

func (h *Handler) introspectAccess(ctx context.Context, raw, org string) (introspection, bool, error) {
	c, ok, err := h.accessClaims(ctx, raw)
	if err != nil || !ok || c.OrgID != org {
		return inactive, false, err
	}
	revoked, err := h.store.IsJTIRevoked(ctx, c.ID, h.now())
	if err != nil {
		return inactive, false, fmt.Errorf("revocation list: %w", err)
	}
	if revoked {
		return inactive, true, nil
	}
	if live, err := h.standsFor(ctx, c); err != nil || !live {
		return inactive, true, err
	}
	return introspection{
		Active: true, Scope: c.Scope, ClientID: c.ClientID, Subject: c.Subject, Audience: c.Audience,
		Issuer: c.Issuer, Expiry: c.Expiry.Time().Unix(), IssuedAt: c.IssuedAt.Time().Unix(), JTI: c.ID,
		TokenType: "Bearer", OrgID: c.OrgID,
	}, true, nil
}

func (h *Handler) introspectRefresh(ctx context.Context, raw, org string) (introspection, bool, error) {
	now := h.now()
	rt, err := h.store.GetRefreshToken(ctx, domain.HashSecret(raw), now)
	if errors.Is(err, domain.ErrNotFound) {
		return inactive, false, nil
	}
	if err != nil {
		return inactive, false, fmt.Errorf("load refresh token: %w", err)
	}
	if rt.OrganizationID != org {
		return inactive, true, nil
	}
	fam, err := h.store.GetRefreshFamily(ctx, rt.FamilyID, now)
	if errors.Is(err, domain.ErrNotFound) {
		return inactive, true, nil
	}
	if err != nil {
		return inactive, false, fmt.Errorf("load refresh family: %w", err)
	}
	// Active means it would refresh (refresh.go): the same rule.
	if rt.Usable(fam, now) != nil {
		return inactive, true, nil
	}
	if live, err := h.holdersLive(ctx, rt.ClientID, rt.UserID, rt.OrganizationID); err != nil || !live {
		return inactive, true, err
	}
	exp := rt.IdleExpiresAt
	if rt.AbsoluteExpiresAt.Before(exp) {
		exp = rt.AbsoluteExpiresAt
	}
	return introspection{
		Active: true, Scope: strings.Join(rt.Scopes, " "), ClientID: rt.ClientID, Subject: rt.UserID,
		Expiry: exp.Unix(), IssuedAt: rt.IssuedAt.Unix(), TokenType: "refresh_token", OrgID: rt.OrganizationID,
	}, true, nil
}

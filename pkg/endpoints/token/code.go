package token

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/jwt"
	"orgauth/pkg/oauth"
	"orgauth/pkg/platform/httpx"
)

// replayedJTILifetime bounds how long the access tokens of a replayed code
// stay on the revoked list: the code remembers their ids, not their expiry,
// and no access token lives longer than this (the largest
// access_token_lifetime the applications API accepts).
const replayedJTILifetime = 24 * time.Hour

// authorizationCode is RFC 6749 §4.1.3 with PKCE, RFC 7636 §4.6.
//
// The code is redeemed (burned) first, atomically, and only then checked:
// "The client MUST NOT use the authorization code more than once. If an
// authorization code is used more than once, the authorization server MUST
// deny the request and SHOULD revoke (when possible) all tokens previously
// issued based on that authorization code" (§4.1.2).
func (h *Handler) authorizationCode(ctx context.Context, req *request) (*tokenResponse, error) {
	app := req.client
	if app.Type != domain.ClientSPA {
		return nil, oauth.UnauthorizedClient("only SPA applications may use the authorization_code grant")
	}
	raw := req.form.Get("code")
	if raw == "" {
		return nil, oauth.InvalidRequest("code is required")
	}
	now := h.now()
	hash := domain.HashSecret(raw)
	code, err := h.store.RedeemCode(ctx, hash, now)
	switch {
	case errors.Is(err, domain.ErrAlreadyUsed):
		h.log.WarnContext(ctx, "authorization code replayed", "event", "code_replayed", "request_id", httpx.RequestID(ctx),
			"source_ip", httpx.SourceIPFrom(ctx), "client_id", app.ClientID, "user_id", code.UserID, "code_client_id", code.ClientID, "family_id", code.IssuedFamilyID)
		if err := h.revokeIssued(ctx, code, now); err != nil {
			return nil, fmt.Errorf("revoke what a replayed code issued: %w", err)
		}
		return nil, oauth.InvalidGrant("the authorization code has already been used")
	case errors.Is(err, domain.ErrNotFound):
		return nil, oauth.InvalidGrant("the authorization code is invalid or expired")
	case err != nil:
		return nil, fmt.Errorf("redeem code: %w", err)
	}
	// §4.1.3: "ensure that the authorization code was issued to the
	// authenticated confidential client, or if the client is public, ensure
	// that the code was issued to "client_id" in the request".
	if code.ClientID != app.ClientID {
		return nil, oauth.InvalidGrant("the authorization code was issued to another client")
	}
	// §4.1.3: redirect_uri must be "identical" to the authorization request's.
	if req.form.Get("redirect_uri") != code.RedirectURI {
		return nil, oauth.InvalidGrant("redirect_uri does not match the authorization request")
	}
	if !verifyPKCE(req.form.Get("code_verifier"), code.CodeChallenge) {
		return nil, oauth.InvalidGrant("code_verifier does not match the code_challenge (PKCE S256 required)")
	}
	// The console's grants belong to the organization of the user who
	// signed in; any other application's to its own.
	app = app.ForOrganization(code.OrganizationID)
	if code.OrganizationID != app.OrganizationID {
		return nil, oauth.InvalidGrant("the authorization code belongs to another organization")
	}
	user, err := h.activeUser(ctx, code.UserID, app.OrganizationID)
	if err != nil {
		return nil, err
	}
	// Note what this redemption will issue before issuing it, so that a
	// replay arriving meanwhile can revoke it (revokeIssued).
	g := grant{
		app: app, user: user, scopes: code.Scopes, audience: code.Audience, authTime: code.AuthTime, nonce: code.Nonce,
		jti: newJTI(),
	}
	familyID := ""
	if slices.Contains(code.Scopes, "offline_access") {
		familyID = domain.NewID()
	}
	err = h.store.RecordCodeIssue(ctx, hash, familyID, []string{g.jti})
	if errors.Is(err, domain.ErrAlreadyUsed) {
		// A replay came between the redemption and this record: it found
		// nothing to revoke, so nothing is issued.
		h.log.WarnContext(ctx, "authorization code replayed while redeemed", "event", "code_replayed", "request_id", httpx.RequestID(ctx),
			"source_ip", httpx.SourceIPFrom(ctx), "client_id", app.ClientID, "user_id", code.UserID)
		return nil, oauth.InvalidGrant("the authorization code has already been used")
	}
	if err != nil {
		return nil, fmt.Errorf("record what the code issues: %w", err)
	}
	if familyID != "" {
		g.family = &domain.RefreshFamily{
			ID: familyID, ClientID: app.ClientID, UserID: user.ID, OrganizationID: app.OrganizationID, SessionID: code.SessionID,
			CreatedAt: now, ExpiresAt: now.Add(h.cfg.RefreshTokenLifetime),
		}
		err := h.store.CreateRefreshFamily(ctx, *g.family)
		if errors.Is(err, domain.ErrAlreadyExists) {
			// A replay got here first and created the family revoked.
			return nil, oauth.InvalidGrant("the authorization code has already been used")
		}
		if err != nil {
			return nil, fmt.Errorf("create refresh family: %w", err)
		}
	}
	resp, claims, err := h.issueUserTokens(ctx, g, now)
	if err != nil {
		return nil, err
	}
	h.log.InfoContext(ctx, "token issued", "event", "token_issued", "request_id", httpx.RequestID(ctx),
		"source_ip", httpx.SourceIPFrom(ctx), "grant_type", "authorization_code", "client_type", string(app.Type), "client_id", app.ClientID,
		"user_id", user.ID, "jti", claims.ID, "family_id", familyID)
	return resp, nil
}

// activeUser loads the user a grant is for: it must exist, be enabled and
// still belong to the client's organization.
func (h *Handler) activeUser(ctx context.Context, id, orgID string) (domain.User, error) {
	u, err := h.store.GetUser(ctx, id)
	u, err = domain.SignInUser(u, err, orgID)
	switch {
	case errors.Is(err, domain.ErrUserNotMember):
		return domain.User{}, oauth.InvalidGrant("the user is not a member of the application's organization")
	case domain.IsSignInRefusal(err):
		return domain.User{}, oauth.InvalidGrant(err.Error())
	case err != nil:
		return domain.User{}, err
	}
	return u, nil
}

// grant is what a user grant issues tokens for.
type grant struct {
	app      domain.Application
	user     domain.User
	scopes   []string // granted to the family (refresh tokens keep these)
	narrowed []string // this access token's scopes, when a refresh narrowed them
	audience string
	authTime time.Time
	nonce    string
	// family, when set, gets a new refresh token.
	family *domain.RefreshFamily
	// jti, when set, is the access token's id.
	jti string
	// commit, when set, runs after every token is signed and before the
	// refresh token is stored: a refresh marks its token used there, so a
	// signing failure (a KMS throttle) leaves the presented token usable.
	commit func(context.Context) error
}

// newJTI is a 128-bit random access-token id.
func newJTI() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// issueUserTokens mints the access token, the refresh token (when the grant
// has a family) and the ID token (when openid is granted).
func (h *Handler) issueUserTokens(ctx context.Context, g grant, now time.Time) (*tokenResponse, jwt.AccessClaims, error) {
	scopes := g.scopes
	if g.narrowed != nil {
		scopes = g.narrowed
	}
	audience := g.audience
	if audience == "" {
		audience = h.cfg.Issuer
	}
	lifetime := g.app.AccessTokenLifetime
	if lifetime <= 0 {
		lifetime = h.cfg.DefaultAccessTokenLifetime
	}
	access, claims, err := h.tokens.AccessToken(ctx, jwt.AccessRequest{
		Subject: g.user.ID, ClientID: g.app.ClientID, OrgID: g.app.OrganizationID, Audience: audience,
		Scopes: scopes, Lifetime: lifetime, AuthTime: g.authTime, ID: g.jti,
	})
	if err != nil {
		return nil, jwt.AccessClaims{}, fmt.Errorf("issue access token: %w", err)
	}
	resp := &tokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int64(lifetime / time.Second), Scope: strings.Join(scopes, " ")}
	if slices.Contains(scopes, "openid") {
		idt, _, err := h.tokens.IDToken(ctx, jwt.IDRequest{
			Subject: g.user.ID, ClientID: g.app.ClientID, AuthTime: g.authTime,
			Nonce: g.nonce, AccessToken: access, Lifetime: h.cfg.IDTokenLifetime, Scopes: scopes,
			User: jwt.UserClaims{Email: g.user.Email, EmailVerified: g.user.EmailVerified, Name: g.user.Name},
		})
		if err != nil {
			return nil, jwt.AccessClaims{}, fmt.Errorf("issue ID token: %w", err)
		}
		resp.IDToken = idt
	}
	if g.commit != nil {
		if err := g.commit(ctx); err != nil {
			return nil, jwt.AccessClaims{}, err
		}
	}
	if g.family != nil {
		raw, hash := domain.NewSecret()
		rt := domain.RefreshToken{
			Hash: hash, FamilyID: g.family.ID, ClientID: g.app.ClientID, UserID: g.user.ID, OrganizationID: g.app.OrganizationID,
			Scopes: g.scopes, Audience: g.audience, AuthTime: g.authTime, IssuedAt: now,
			IdleExpiresAt: minTime(now.Add(h.cfg.RefreshIdleTimeout), g.family.ExpiresAt), AbsoluteExpiresAt: g.family.ExpiresAt,
			AccessTokenID: claims.ID, AccessTokenExpiresAt: claims.Expiry.Time(),
		}
		if err := h.store.CreateRefreshToken(ctx, rt); err != nil {
			return nil, jwt.AccessClaims{}, fmt.Errorf("store refresh token: %w", err)
		}
		// A revocation of the family that ran meanwhile marked the family
		// before listing its tokens: either it listed this one (and
		// revoked its access token), or the family reads revoked now.
		fam, err := h.store.GetRefreshFamily(ctx, g.family.ID, now)
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			return nil, jwt.AccessClaims{}, fmt.Errorf("load refresh family: %w", err)
		}
		if err != nil || fam.Revoked {
			if err := h.store.RevokeJTI(ctx, claims.ID, claims.Expiry.Time()); err != nil {
				return nil, jwt.AccessClaims{}, fmt.Errorf("revoke jti: %w", err)
			}
			return nil, jwt.AccessClaims{}, oauth.InvalidGrant("the grant was revoked")
		}
		resp.RefreshToken = raw
	}
	return resp, claims, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// revokeIssued revokes what a code's first redemption issued: its refresh
// family (with every access token issued from it) and its access tokens.
//
// The first redemption records the family id and the access token's jti
// before it issues them. If the family does not exist yet, the replay
// creates it already revoked, and the first redemption's create then fails,
// so it issues no refresh token. A replay between redeeming and recording
// finds nothing to revoke, but marks the code replayed, and the first
// redemption's record then fails: it issues nothing.
func (h *Handler) revokeIssued(ctx context.Context, code domain.AuthorizationCode, now time.Time) error {
	if id := code.IssuedFamilyID; id != "" {
		err := h.store.CreateRefreshFamily(ctx, domain.RefreshFamily{
			ID: id, ClientID: code.ClientID, UserID: code.UserID, OrganizationID: code.OrganizationID, SessionID: code.SessionID,
			CreatedAt: now, ExpiresAt: now.Add(h.cfg.RefreshTokenLifetime), Revoked: true, RevokedAt: now,
		})
		if errors.Is(err, domain.ErrAlreadyExists) {
			err = h.revokeFamily(ctx, id, now)
		}
		if err != nil {
			return err
		}
	}
	for _, jti := range code.IssuedAccessJTIs {
		if err := h.store.RevokeJTI(ctx, jti, code.RedeemedAt.Add(replayedJTILifetime)); err != nil {
			return fmt.Errorf("revoke jti: %w", err)
		}
	}
	return nil
}

// revokeFamily marks a refresh family revoked, then puts the access token
// of every one of its refresh tokens on the revoked list. The flag is
// written first: from then on no token of the family is honoured, even if
// listing the tokens fails.
func (h *Handler) revokeFamily(ctx context.Context, familyID string, now time.Time) error {
	err := h.store.RevokeRefreshFamily(ctx, familyID, now)
	if errors.Is(err, domain.ErrNotFound) {
		return nil // expired: nothing of it is valid any more
	}
	if err != nil {
		return fmt.Errorf("revoke refresh family: %w", err)
	}
	tokens, err := h.store.ListRefreshTokens(ctx, familyID)
	if err != nil {
		return fmt.Errorf("list refresh family: %w", err)
	}
	for _, rt := range tokens {
		if rt.AccessTokenID == "" || !now.Before(rt.AccessTokenExpiresAt) {
			continue
		}
		if err := h.store.RevokeJTI(ctx, rt.AccessTokenID, rt.AccessTokenExpiresAt); err != nil {
			return fmt.Errorf("revoke jti: %w", err)
		}
	}
	h.log.InfoContext(ctx, "refresh family revoked", "event", "family_revoked", "request_id", httpx.RequestID(ctx),
		"source_ip", httpx.SourceIPFrom(ctx), "family_id", familyID, "tokens", len(tokens))
	return nil
}

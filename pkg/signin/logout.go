package signin

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/jwt"
)

// Logout is OpenID Connect RP-Initiated Logout 1.0 §2: it ends the
// browser's session and returns to post_logout_redirect_uri when that is
// registered, character for character, as a logout URL of the application
// (named by client_id or by the id_token_hint's audience); otherwise it
// shows a signed-out page. rawQuery is the request's query string.
//
// Without an id_token_hint, §2 suggests asking the user to confirm; orgauth
// signs out without asking: a forged logout only ends a session, which the
// user starts again with a password.
func (s *Service) Logout(ctx context.Context, rawQuery string, b Browser) (Result, error) {
	p, clientID, err := s.logoutRequest(ctx, rawQuery, b)
	if err != nil {
		var e *Refusal
		if errors.As(err, &e) {
			s.log.InfoContext(ctx, "logout request refused", "event", "logout_refused", "request_id", b.RequestID, "reason", e.Message)
		}
		return Result{}, err
	}
	if v := b.Cookies.Session; v != "" {
		now := s.now()
		sess, err := s.store.GetSession(ctx, domain.HashSecret(v), now)
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			return Result{}, err
		}
		err = s.store.DeleteSession(ctx, domain.HashSecret(v))
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			return Result{}, err
		}
		revoked := 0
		if sess.ID != "" {
			if revoked, err = s.revokeSessionGrants(ctx, sess, now); err != nil {
				return Result{}, err
			}
		}
		s.log.InfoContext(ctx, "signed out", "event", "logout", "request_id", b.RequestID, "client_id", clientID,
			"session_id", sess.ID, "user_id", sess.UserID, "families_revoked", revoked)
	}
	var res Result
	res.setCookie(SessionCookie, "", -1)
	target := p["post_logout_redirect_uri"]
	if target == "" {
		res.Outcome = Page{Status: 200, Title: "Signed out", Message: "You are now signed out. You can close this window.", FormTargets: []string{""}}
		return res, nil
	}
	u, _ := url.Parse(target) // registered, so valid
	if st := p["state"]; st != "" {
		v := u.Query()
		v.Set("state", st)
		u.RawQuery = v.Encode()
	}
	res.Outcome = Redirect{URL: u.String()}
	return res, nil
}

// logoutRequest checks a logout request: its parameters and the
// application it names. A *Refusal says what is wrong with it.
func (s *Service) logoutRequest(ctx context.Context, rawQuery string, b Browser) (map[string]string, string, error) {
	bad := func(msg string) *Refusal { return refuse(400, "Invalid sign-out request", msg) }
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, "", bad("The sign-out link is malformed.")
	}
	p, repeated := single(q)
	if repeated != "" {
		return nil, "", bad("The sign-out link repeats " + repeated + ".")
	}
	clientID, target := p["client_id"], p["post_logout_redirect_uri"]
	if hint := p["id_token_hint"]; hint != "" {
		aud, err := s.verifyIDTokenHint(ctx, hint)
		if err != nil {
			s.log.InfoContext(ctx, "id_token_hint refused", "request_id", b.RequestID, "error", err.Error())
			return nil, "", bad("The sign-out link carries a token this server did not issue.")
		}
		switch {
		case clientID == "" && len(aud) == 1:
			clientID = aud[0]
		case clientID != "" && !slices.Contains(aud, clientID):
			return nil, "", bad("The sign-out link's token was not issued to the application it names.")
		}
	}
	if target == "" {
		return p, clientID, nil
	}
	if clientID == "" {
		return nil, "", bad("The sign-out link names no application (client_id or id_token_hint), so its return address cannot be checked.")
	}
	app, err := s.store.GetApplication(ctx, clientID)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, "", bad("The application that sent you here is not known to this server.")
	}
	if err != nil {
		return nil, "", err
	}
	if !slices.Contains(app.LogoutURLs, target) {
		return nil, "", bad("The address this application asked to return to after sign-out is not registered for it, so you were not sent there.")
	}
	return p, clientID, nil
}

// verifyIDTokenHint checks that raw was signed by one of this server's
// published keys and names it as iss, and returns its audience. An expired
// token is fine: RP-Initiated Logout §2 has the OP accept ID tokens past
// their exp (an RP often logs out long after its ID token expired).
func (s *Service) verifyIDTokenHint(ctx context.Context, raw string) ([]string, error) {
	c, err := jwt.NewVerifier(s.cfg.Issuer, s.keys, s.now).VerifyIDTokenHint(ctx, raw)
	return c.Audience, err
}

// LogoutV2 is Auth0's GET /v2/logout?client_id=...&returnTo=..., which
// @auth0/auth0-spa-js calls: the same logout as Logout, with returnTo as
// the post_logout_redirect_uri. returnTo must be one of the logout URLs of
// the application client_id names; anything else is an error page, never a
// redirect. federated (ending the upstream provider's session too) is
// accepted and ignored: orgauth ends only its own session; so is auth0Client.
func (s *Service) LogoutV2(ctx context.Context, rawQuery string, b Browser) (Result, error) {
	bad := func(msg string) *Refusal { return refuse(400, "Invalid sign-out request", msg) }
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return Result{}, bad("The sign-out link is malformed.")
	}
	p, repeated := single(q)
	if repeated != "" {
		return Result{}, bad("The sign-out link repeats a parameter.")
	}
	out := url.Values{}
	for k, v := range p {
		switch k {
		case "returnTo":
			out.Set("post_logout_redirect_uri", v)
		case "client_id":
			out.Set(k, v)
		case "federated", "auth0Client": // ignored; auth0Client is the Auth0 SDKs' telemetry
		default:
			return Result{}, bad("The sign-out link has a parameter this address does not take.")
		}
	}
	return s.Logout(ctx, out.Encode(), b)
}

// revokeSessionGrants revokes the refresh-token families that sign-ins of
// sess started (RefreshFamily.SessionID), and the access tokens issued
// with their refresh tokens: signing out ends what the session granted,
// not only the cookie. Each family is marked revoked before its tokens
// are listed, so a refresh racing the logout either is listed here or
// reads the family revoked. Families of other sessions of the user (other
// browsers) are kept.
func (s *Service) revokeSessionGrants(ctx context.Context, sess domain.Session, now time.Time) (int, error) {
	families, err := s.store.ListUserRefreshFamilies(ctx, sess.UserID, now)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range families {
		if f.SessionID != sess.ID {
			continue
		}
		if err := s.store.RevokeRefreshFamily(ctx, f.ID, now); err != nil && !errors.Is(err, domain.ErrNotFound) {
			return n, err
		}
		tokens, err := s.store.ListRefreshTokens(ctx, f.ID)
		if err != nil {
			return n, err
		}
		for _, rt := range tokens {
			if rt.AccessTokenID == "" || !now.Before(rt.AccessTokenExpiresAt) {
				continue
			}
			if err := s.store.RevokeJTI(ctx, rt.AccessTokenID, rt.AccessTokenExpiresAt); err != nil {
				return n, err
			}
		}
		n++
	}
	return n, nil
}

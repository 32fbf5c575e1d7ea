package signin

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"orgauth/pkg/domain"
)

// grant is what an issued code carries about its request.
type grant struct {
	clientID, redirectURI, state, nonce, codeChallenge, audience string
	scopes                                                       []string
	responseMode                                                 string
}

func (req *authzRequest) grant() grant {
	return grant{clientID: req.app.ClientID, redirectURI: req.redirectURI, state: req.state, nonce: req.nonce,
		codeChallenge: req.codeChallenge, audience: req.audience, scopes: req.scopes, responseMode: req.responseMode}
}

func txGrant(tx domain.LoginTransaction) grant {
	return grant{clientID: tx.ClientID, redirectURI: tx.RedirectURI, state: tx.State, nonce: tx.Nonce,
		codeChallenge: tx.CodeChallenge, audience: tx.Audience, scopes: tx.Scopes, responseMode: tx.ResponseMode}
}

// Authorize is the authorization endpoint, RFC 6749 §4.1.1 with RFC 7636
// and OpenID Connect Core §3.1.2: rawQuery is the request's query string.
func (s *Service) Authorize(ctx context.Context, rawQuery string, b Browser) (Result, error) {
	req, err := s.parseAuthorize(ctx, rawQuery)
	var refusal *Refusal
	var ae *authzError
	switch {
	case errors.As(err, &refusal):
		s.log.InfoContext(ctx, "authorization request refused", "event", "authorize_refused", "request_id", b.RequestID,
			"reason", refusal.Title)
		return Result{}, err
	case errors.As(err, &ae):
		return Result{Outcome: s.errorResponse(ctx, b, req.redirectURI, req.state, req.responseMode, ae)}, nil
	case err != nil:
		return Result{}, err
	}
	now := s.now()

	// Single sign-on: a session of the application's organization signs
	// the user in without the form, unless prompt=login or max_age asks
	// for a fresh password (OpenID Connect Core §3.1.2.1).
	sess, user, err := s.currentSession(ctx, b.Cookies.Session, now)
	if err != nil {
		return Result{}, err
	}
	sso, err := s.ssoFor(ctx, req.app)
	if err != nil {
		return Result{}, err
	}
	// Where SSO is enforced, only a session the organization's provider
	// authenticated will do (orgSSO.admits).
	if sess != nil && req.app.Admits(sess.OrganizationID) && sso.admits(*sess) && req.prompt != "login" &&
		(req.maxAge < 0 || now.Sub(sess.AuthTime) <= time.Duration(req.maxAge)*time.Second) {
		return s.signedIn(ctx, b, req.app, req.grant(), req.prompt, *sess, user, now)
	}
	// prompt=none: "The Authorization Server MUST NOT display any
	// authentication or consent user interface pages. An error is returned
	// if an End-User is not already authenticated".
	if req.prompt == "none" {
		return Result{Outcome: s.errorResponse(ctx, b, req.redirectURI, req.state, req.responseMode,
			&authzError{"login_required", "the user is not signed in"})}, nil
	}

	// The CSRF token is a per-browser secret in a cookie, repeated in the
	// form; the transaction keeps its hash. Another tab's transaction
	// shares the cookie, so starting a second sign-in does not break the
	// first.
	csrf := b.Cookies.CSRF
	if len(csrf) != 43 {
		csrf, _ = domain.NewSecret()
	}
	// Nothing is written for an anonymous request: the form carries the
	// transaction (pending.go).
	if len(rawQuery) > maxAuthorizeQuery {
		return Result{}, refuse(400, "Invalid request", "The sign-in link is too long.")
	}
	tx := s.newTransaction(req, pendingID(rawQuery, now), csrf, now)
	var res Result
	res.setCookie(CSRFCookie, csrf, 0)
	switch {
	case sso == nil:
		res.Outcome = s.loginPage(ctx, req.app.Name, tx, csrf, req.loginHint, "", nil)
	case sso.Enforced || sso.HasDomain(req.loginHint):
		// Home-realm discovery: straight to the organization's provider.
		return s.goUpstream(ctx, b, res, tx, sso, req.loginHint)
	default:
		res.Outcome = s.emailPage(ctx, req.app.Name, tx, csrf, req.loginHint, "", sso)
	}
	return res, nil
}

// loginPage is the password form. With SSO (not enforced), its email may
// still send the user upstream, so the provider joins the form's targets.
func (s *Service) loginPage(ctx context.Context, appName string, tx domain.LoginTransaction, csrf, email, msg string, sso *orgSSO) Page {
	return Page{Status: 200, Title: "Sign in", Error: msg, Login: &LoginForm{
		AppName: appName, Transaction: tx.ID, CSRFToken: csrf, Email: email,
	}, FormTargets: s.formTargets(ctx, tx, sso)}
}

// emailPage is the first step where the organization has its own provider:
// the email alone, which decides where the user signs in.
func (s *Service) emailPage(ctx context.Context, appName string, tx domain.LoginTransaction, csrf, email, msg string, sso *orgSSO) Page {
	p := s.loginPage(ctx, appName, tx, csrf, email, msg, sso)
	p.Login.EmailOnly = true
	return p
}

// currentSession returns the browser's session and its user, or nil when
// there is none that may sign in: expired, deleted, or its user disabled or
// gone.
func (s *Service) currentSession(ctx context.Context, cookie string, now time.Time) (*domain.Session, domain.User, error) {
	if cookie == "" {
		return nil, domain.User{}, nil
	}
	sess, err := s.store.GetSession(ctx, domain.HashSecret(cookie), now)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, domain.User{}, nil
	}
	if err != nil {
		return nil, domain.User{}, fmt.Errorf("read session: %w", err)
	}
	user, err := s.store.GetUser(ctx, sess.UserID)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, domain.User{}, nil
	}
	if err != nil {
		return nil, domain.User{}, fmt.Errorf("read session user: %w", err)
	}
	if user.MaySignIn(sess.OrganizationID) != nil {
		return nil, domain.User{}, nil
	}
	return &sess, user, nil
}

// issueCode stores a new authorization code and redirects to the client
// with it, RFC 6749 §4.1.2. The code is a 256-bit random value; only its
// hash is stored. app is g's application, as the request already read it.
func (s *Service) issueCode(ctx context.Context, b Browser, app domain.Application, g grant, sess domain.Session, user domain.User, now time.Time) (Result, error) {
	scopes, err := s.heldScopes(ctx, app, g, user)
	if err != nil {
		return Result{}, err
	}
	code, hash := domain.NewSecret()
	err = s.store.CreateCode(ctx, domain.AuthorizationCode{
		Hash: hash, ClientID: g.clientID, UserID: user.ID, OrganizationID: user.OrganizationID,
		RedirectURI: g.redirectURI, CodeChallenge: g.codeChallenge, Nonce: g.nonce, Scopes: scopes,
		Audience: g.audience, AuthTime: sess.AuthTime, SessionID: sess.ID, ExpiresAt: now.Add(s.cfg.CodeLifetime),
	})
	if err != nil {
		return Result{}, fmt.Errorf("create code: %w", err)
	}
	s.log.InfoContext(ctx, "code issued", "event", "code_issued", "request_id", b.RequestID,
		"client_id", g.clientID, "user_id", user.ID, "org_id", user.OrganizationID, "session_id", sess.ID, "source_ip", b.SourceIP)
	return Result{Outcome: s.respond(g.redirectURI, g.responseMode, url.Values{"code": {code}, "state": {g.state}})}, nil
}

// heldScopes is what the code grants of the scopes the request asked for:
// the requested scopes ∩ the application's ∩ those the user's role may
// hold on the audience's registered API (domain.HeldScopes). A scope the
// user may not hold is left out, not refused: the token says what it
// carries.
func (s *Service) heldScopes(ctx context.Context, app domain.Application, g grant, user domain.User) ([]string, error) {
	var api *domain.API
	if g.audience != "" {
		a, err := s.store.GetAPI(ctx, g.audience)
		switch {
		case err == nil:
			api = &a
		case !errors.Is(err, domain.ErrNotFound):
			return nil, fmt.Errorf("load API: %w", err)
		}
	}
	return domain.HeldScopes(g.scopes, app.Scopes, user.Role, api), nil
}

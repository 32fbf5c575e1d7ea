package authorize

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/oauth"
	"orgauth/pkg/password"
	"orgauth/pkg/platform/httpx"
)

// Cookie names. __Host- (RFC 6265bis §4.1.3.2) pins a cookie to this exact
// host, https and Path=/, so a sibling subdomain cannot plant or read it.
// Browsers only accept it with Secure, which they only set over https: with
// an http issuer (loopback only, for local development) the cookies drop
// the prefix and Secure.
const (
	sessionCookie = "orgauth_session"
	csrfCookie    = "orgauth_csrf"
)

func (h *Handler) cookieName(name string) string {
	if h.secure {
		return "__Host-" + name
	}
	return name
}

func (h *Handler) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: h.cookieName(name), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (h *Handler) cookie(r *http.Request, name string) string {
	c, err := r.Cookie(h.cookieName(name))
	if err != nil {
		return ""
	}
	return c.Value
}

func requestID(r *http.Request) string { return httpx.RequestID(r.Context()) }

// grant is what an issued code carries about its request.
type grant struct {
	clientID, redirectURI, state, nonce, codeChallenge, audience string
	scopes                                                       []string
}

func (req *authzRequest) grant() grant {
	return grant{clientID: req.app.ClientID, redirectURI: req.redirectURI, state: req.state, nonce: req.nonce,
		codeChallenge: req.codeChallenge, audience: req.audience, scopes: req.scopes}
}

func txGrant(tx domain.LoginTransaction) grant {
	return grant{clientID: tx.ClientID, redirectURI: tx.RedirectURI, state: tx.State, nonce: tx.Nonce,
		codeChallenge: tx.CodeChallenge, audience: tx.Audience, scopes: tx.Scopes}
}

func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, err error) {
	h.log.ErrorContext(r.Context(), "server error", "request_id", requestID(r), "error", err.Error())
	h.errorPage(w, r, http.StatusInternalServerError, "Something went wrong",
		"The server could not complete your sign-in. Try again in a moment.")
}

// ---------------------------------------------------------------- GET /authorize

// authorize is the authorization endpoint, RFC 6749 §4.1.1 with RFC 7636
// and OpenID Connect Core §3.1.2.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) {
	if !h.getOnly(w, r) {
		return
	}
	ctx := r.Context()
	req, err := h.parseAuthorize(ctx, r.URL.RawQuery)
	var pe *pageError
	var ae *authzError
	switch {
	case errors.As(err, &pe):
		h.log.InfoContext(ctx, "authorization request refused", "event", "authorize_refused", "request_id", requestID(r),
			"reason", pe.Title)
		h.errorPage(w, r, pe.Status, pe.Title, pe.Message)
		return
	case errors.As(err, &ae):
		h.redirectError(w, r, req.redirectURI, req.state, ae)
		return
	case err != nil:
		h.serverError(w, r, err)
		return
	}
	now := h.now()

	// Single sign-on: a session of the application's organization signs
	// the user in without the form, unless prompt=login or max_age asks
	// for a fresh password (OpenID Connect Core §3.1.2.1).
	sess, user, err := h.currentSession(ctx, r, now)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if sess != nil && sess.OrganizationID == req.app.OrganizationID && req.prompt != "login" &&
		(req.maxAge < 0 || now.Sub(sess.AuthTime) <= time.Duration(req.maxAge)*time.Second) {
		h.issueCode(w, r, req.grant(), *sess, user, now)
		return
	}
	// prompt=none: "The Authorization Server MUST NOT display any
	// authentication or consent user interface pages. An error is returned
	// if an End-User is not already authenticated".
	if req.prompt == "none" {
		h.redirectError(w, r, req.redirectURI, req.state, &authzError{"login_required", "the user is not signed in"})
		return
	}

	// The CSRF token is a per-browser secret in a cookie, repeated in the
	// form; the transaction keeps its hash. Another tab's transaction
	// shares the cookie, so starting a second sign-in does not break the
	// first.
	csrf := h.cookie(r, csrfCookie)
	if len(csrf) != 43 {
		csrf, _ = domain.NewSecret()
	}
	tx := domain.LoginTransaction{
		ID: domain.NewID(), ClientID: req.app.ClientID, RedirectURI: req.redirectURI, State: req.state,
		Nonce: req.nonce, CodeChallenge: req.codeChallenge, Scopes: req.scopes, Audience: req.audience,
		Prompt: req.prompt, LoginHint: req.loginHint, MaxAge: req.maxAge, CSRFHash: domain.HashSecret(csrf),
		OrganizationID: req.app.OrganizationID, CreatedAt: now, ExpiresAt: now.Add(h.cfg.TransactionLifetime),
	}
	if err := h.store.CreateLoginTransaction(ctx, tx); err != nil {
		h.serverError(w, r, fmt.Errorf("create login transaction: %w", err))
		return
	}
	h.setCookie(w, csrfCookie, csrf, 0)
	sso, err := h.ssoFor(ctx, req.app)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	switch {
	case sso == nil:
		h.loginPage(w, r, http.StatusOK, req.app.Name, tx, csrf, req.loginHint, "", nil)
	case sso.Enforced || sso.HasDomain(req.loginHint):
		// Home-realm discovery: straight to the organization's provider.
		h.goUpstream(w, r, tx, sso, req.loginHint)
	default:
		h.emailPage(w, r, http.StatusOK, req.app.Name, tx, csrf, req.loginHint, "", sso)
	}
}

// loginPage is the password form. With SSO (not enforced), its email may
// still send the user upstream, so the provider joins the form's targets.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request, status int, appName string, tx domain.LoginTransaction, csrf, email, msg string, sso *domain.SSO) {
	h.render(w, r, status, page{Title: "Sign in", Error: msg, Login: &loginForm{
		AppName: appName, Transaction: tx.ID, CSRFToken: csrf, Email: email,
	}}, h.formTargets(r.Context(), tx, sso)...)
}

// emailPage is the first step where the organization has its own provider:
// the email alone, which decides where the user signs in.
func (h *Handler) emailPage(w http.ResponseWriter, r *http.Request, status int, appName string, tx domain.LoginTransaction, csrf, email, msg string, sso *domain.SSO) {
	h.render(w, r, status, page{Title: "Sign in", Error: msg, Login: &loginForm{
		AppName: appName, Transaction: tx.ID, CSRFToken: csrf, Email: email, EmailOnly: true,
	}}, h.formTargets(r.Context(), tx, sso)...)
}

// currentSession returns the browser's session and its user, or nil when
// there is none that may sign in: expired, deleted, or its user disabled or
// gone.
func (h *Handler) currentSession(ctx context.Context, r *http.Request, now time.Time) (*domain.Session, domain.User, error) {
	v := h.cookie(r, sessionCookie)
	if v == "" {
		return nil, domain.User{}, nil
	}
	sess, err := h.store.GetSession(ctx, domain.HashSecret(v), now)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, domain.User{}, nil
	}
	if err != nil {
		return nil, domain.User{}, fmt.Errorf("read session: %w", err)
	}
	user, err := h.store.GetUser(ctx, sess.UserID)
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
// hash is stored.
func (h *Handler) issueCode(w http.ResponseWriter, r *http.Request, g grant, sess domain.Session, user domain.User, now time.Time) {
	code, hash := domain.NewSecret()
	err := h.store.CreateCode(r.Context(), domain.AuthorizationCode{
		Hash: hash, ClientID: g.clientID, UserID: user.ID, OrganizationID: user.OrganizationID,
		RedirectURI: g.redirectURI, CodeChallenge: g.codeChallenge, Nonce: g.nonce, Scopes: g.scopes,
		Audience: g.audience, AuthTime: sess.AuthTime, SessionID: sess.ID, ExpiresAt: now.Add(h.cfg.CodeLifetime),
	})
	if err != nil {
		h.serverError(w, r, fmt.Errorf("create code: %w", err))
		return
	}
	h.log.InfoContext(r.Context(), "code issued", "event", "code_issued", "request_id", requestID(r),
		"client_id", g.clientID, "user_id", user.ID, "org_id", user.OrganizationID, "session_id", sess.ID)
	h.redirect(w, r, h.redirectURL(g.redirectURI, url.Values{"code": {code}, "state": {g.state}}))
}

// ---------------------------------------------------------------- POST /login

func ctEqual(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// login checks the form's password and, on success, starts a session and
// sends the user back to the application with a code.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		h.methodNotAllowed(w, r, http.MethodPost)
		return
	}
	ctx := r.Context()
	now := h.now()
	// The form is only ever posted from this server's own page.
	if o := r.Header.Get("Origin"); o != "" && o != h.origin {
		h.errorPage(w, r, http.StatusForbidden, "Sign-in refused", "The sign-in form was sent from another site.")
		return
	}
	form, err := oauth.ReadFormBody(r)
	if err != nil {
		h.errorPage(w, r, http.StatusBadRequest, "Invalid request", "The sign-in form could not be read.")
		return
	}
	expired := func() {
		h.errorPage(w, r, http.StatusBadRequest, "Sign-in expired",
			"This sign-in has expired or was already used. Go back to the application and sign in again.")
	}
	txID := form["transaction"]
	if txID == "" {
		expired()
		return
	}
	tx, err := h.store.GetLoginTransaction(ctx, txID, now)
	if errors.Is(err, domain.ErrNotFound) {
		expired()
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	// Login CSRF: the token must be the one in this browser's cookie and
	// the one this transaction was created with. Both compare in constant
	// time.
	csrf, cookie := form["csrf_token"], h.cookie(r, csrfCookie)
	if csrf == "" || cookie == "" || !ctEqual([]byte(csrf), []byte(cookie)) || !ctEqual(domain.HashSecret(csrf), tx.CSRFHash) {
		h.log.WarnContext(ctx, "login form CSRF check failed", "event", "login_csrf_failed", "request_id", requestID(r),
			"client_id", tx.ClientID, "cookie_present", cookie != "", "source_ip", httpx.SourceIP(r))
		h.errorPage(w, r, http.StatusForbidden, "Sign-in refused",
			"The sign-in form could not be verified. Make sure cookies are enabled, then go back to the application and sign in again.")
		return
	}
	app, err := h.store.GetApplication(ctx, tx.ClientID)
	if errors.Is(err, domain.ErrNotFound) {
		h.errorPage(w, r, http.StatusBadRequest, "Unknown application", "The application you were signing in to no longer exists.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	email := strings.ToLower(strings.TrimSpace(form["email"]))
	pw, hasPassword := form["password"]
	if len(email) > 320 || len(pw) > 1024 {
		h.loginPage(w, r, http.StatusOK, app.Name, tx, csrf, "", "Incorrect email or password.", nil)
		return
	}
	sso, err := h.ssoFor(ctx, app)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if sso != nil {
		switch {
		case sso.Enforced || sso.HasDomain(email):
			h.goUpstream(w, r, tx, sso, email)
			return
		case !hasPassword && email == "":
			h.emailPage(w, r, http.StatusOK, app.Name, tx, csrf, "", "Enter your email.", sso)
			return
		case !hasPassword: // the email step, for a user who signs in here
			h.loginPage(w, r, http.StatusOK, app.Name, tx, csrf, email, "", sso)
			return
		}
	}
	if email == "" || pw == "" {
		h.loginPage(w, r, http.StatusOK, app.Name, tx, csrf, email, "Enter your email and password.", sso)
		return
	}

	// Throttle before any password is checked. The attempt is counted
	// first, so that concurrent guesses cannot all pass a check made before
	// any of them was counted; a successful sign-in takes its count back.
	ip := httpx.SourceIP(r)
	keys := []string{"login:account-ip:" + email + "#" + ip, "login:ip:" + ip, "login:account:" + email}
	limits := []int64{h.cfg.MaxFailuresPerAccountIP, h.cfg.MaxFailuresPerIP, h.cfg.MaxFailuresPerAccount}
	for i, k := range keys {
		n, err := h.store.CountFailure(ctx, k, h.cfg.FailureWindow, now)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		if n > limits[i] {
			h.log.WarnContext(ctx, "login throttled", "event", "login_throttled", "request_id", requestID(r),
				"client_id", tx.ClientID, "limit", strings.SplitN(k, ":", 3)[1], "source_ip", ip)
			h.tooManyAttempts(w, r, h.windowLeft(now))
			return
		}
	}

	// An unknown email costs one argon2id verification too, so that timing
	// does not tell it from a wrong password; both read the same, and so
	// does a disabled account: only its password's owner could tell.
	user, err := h.store.GetUserByEmail(ctx, email)
	ok := false
	switch {
	case errors.Is(err, domain.ErrNotFound):
		password.VerifyDummy(pw)
	case err != nil:
		h.serverError(w, r, err)
		return
	case user.PasswordHash == "": // SSO-only user
		password.VerifyDummy(pw)
	default:
		ok = password.Verify(user.PasswordHash, pw) && !user.Disabled
	}
	if !ok {
		reason := "password"
		if user.Disabled {
			reason = "disabled"
		}
		h.log.WarnContext(ctx, "login failed", "event", "login_failed", "reason", reason, "request_id", requestID(r),
			"client_id", tx.ClientID, "user_id", user.ID, "source_ip", ip)
		h.loginPage(w, r, http.StatusOK, app.Name, tx, csrf, email, "Incorrect email or password.", sso)
		return
	}
	for _, k := range keys {
		if err := h.store.ForgetFailure(ctx, k, h.cfg.FailureWindow, now); err != nil {
			// The attempt stays counted; nothing worse.
			h.log.WarnContext(ctx, "cannot take back a counted sign-in attempt", "request_id", requestID(r), "error", err.Error())
		}
	}

	h.finishSignIn(w, r, txID, app, user, "password", now)
}

// finishSignIn ends a login transaction whose user has proven who they are
// (with a password, or through the organization's provider): it consumes the
// transaction, starts a session and sends the user back to the application
// with a code.
func (h *Handler) finishSignIn(w http.ResponseWriter, r *http.Request, txID string, app domain.Application, user domain.User, method string, now time.Time) {
	ctx := r.Context()
	// Single use: of concurrent posts of one transaction, one gets it.
	tx, err := h.store.ConsumeLoginTransaction(ctx, txID, now)
	if errors.Is(err, domain.ErrNotFound) {
		h.errorPage(w, r, http.StatusBadRequest, "Sign-in expired",
			"This sign-in has expired or was already used. Go back to the application and sign in again.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	// Only members of the application's organization sign in to it (RFC
	// 6749 §4.1.2.1, access_denied: "The resource owner or authorization
	// server denied the request").
	if user.MaySignIn(tx.OrganizationID) != nil || app.OrganizationID != tx.OrganizationID {
		h.log.WarnContext(ctx, "login refused: other organization", "event", "login_refused", "reason", "organization",
			"request_id", requestID(r), "client_id", tx.ClientID, "user_id", user.ID)
		h.redirectError(w, r, tx.RedirectURI, tx.State, &authzError{"access_denied", "the user is not a member of the application's organization"})
		return
	}

	// A new session; the one the browser had, if any, ends.
	if old := h.cookie(r, sessionCookie); old != "" {
		if err := h.store.DeleteSession(ctx, domain.HashSecret(old)); err != nil && !errors.Is(err, domain.ErrNotFound) {
			h.serverError(w, r, err)
			return
		}
	}
	value, hash := domain.NewSecret()
	sess := domain.Session{Hash: hash, ID: domain.NewID(), UserID: user.ID, OrganizationID: user.OrganizationID,
		AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(h.cfg.SessionLifetime)}
	if err := h.store.CreateSession(ctx, sess); err != nil {
		h.serverError(w, r, fmt.Errorf("create session: %w", err))
		return
	}
	h.setCookie(w, sessionCookie, value, int(h.cfg.SessionLifetime/time.Second))
	h.log.InfoContext(ctx, "login succeeded", "event", "login_succeeded", "request_id", requestID(r),
		"client_id", tx.ClientID, "user_id", user.ID, "session_id", sess.ID, "method", method)
	h.issueCode(w, r, txGrant(tx), sess, user, now)
}

// windowLeft is how long until the current failure window ends.
func (h *Handler) windowLeft(now time.Time) time.Duration {
	w := int64(h.cfg.FailureWindow / time.Second)
	return time.Duration(w-now.Unix()%w) * time.Second
}

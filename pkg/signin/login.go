package signin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/password"
)

// LoginForm values, as posted to /login.
type LoginValues struct {
	Transaction string
	CSRFToken   string
	Email       string
	Password    string
	// HasPassword tells the email step (no password field) from a password
	// left empty.
	HasPassword bool
}

// Login is what POST /login brings: the form, and the request's Origin
// header ("" when absent).
type Login struct {
	Origin  string
	Form    LoginValues
	Browser Browser
}

func ctEqual(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// Login checks the form's password and, on success, starts a session and
// sends the user back to the application with a code. Where the
// organization has its own provider, the email may send the user there
// instead.
func (s *Service) Login(ctx context.Context, in Login) (Result, error) {
	now := s.now()
	tx, err := s.loginTransaction(ctx, in, now)
	if err != nil {
		return Result{}, err
	}
	app, err := s.store.GetApplication(ctx, tx.ClientID)
	if errors.Is(err, domain.ErrNotFound) {
		return Result{}, errAppGone()
	}
	if err != nil {
		return Result{}, err
	}
	csrf := in.Form.CSRFToken
	email := formEmail(in.Form.Email)
	pw := in.Form.Password
	if len(email) > 320 || len(pw) > 1024 {
		return Result{Outcome: s.loginPage(ctx, app.Name, tx, csrf, "", "Incorrect email or password.", nil)}, nil
	}
	sso, err := s.ssoFor(ctx, app)
	if err != nil {
		return Result{}, err
	}
	if sso != nil {
		switch {
		case sso.Enforced || sso.HasDomain(email):
			return s.goUpstream(ctx, in.Browser, Result{}, tx, sso, email)
		case !in.Form.HasPassword && email == "":
			return Result{Outcome: s.emailPage(ctx, app.Name, tx, csrf, "", "Enter your email.", sso)}, nil
		case !in.Form.HasPassword: // the email step, for a user who signs in here
			return Result{Outcome: s.loginPage(ctx, app.Name, tx, csrf, email, "", sso)}, nil
		}
	}
	if email == "" || pw == "" {
		return Result{Outcome: s.loginPage(ctx, app.Name, tx, csrf, email, "Enter your email and password.", sso)}, nil
	}
	user, ok, err := s.checkPassword(ctx, in.Browser, tx, email, pw, now)
	if err != nil {
		return Result{}, err
	}
	if !ok {
		return Result{Outcome: s.loginPage(ctx, app.Name, tx, csrf, email, "Incorrect email or password.", sso)}, nil
	}
	return s.finishSignIn(ctx, in.Browser, tx.ID, app, user, passwordAuth(now), now)
}

// loginTransaction is the form's live login transaction, once the form
// is known to come from this server's page in this browser.
func (s *Service) loginTransaction(ctx context.Context, in Login, now time.Time) (domain.LoginTransaction, error) {
	// The form is only ever posted from this server's own page.
	if in.Origin != "" && in.Origin != s.origin {
		return domain.LoginTransaction{}, refuse(403, "Sign-in refused", "The sign-in form was sent from another site.")
	}
	if in.Form.Transaction == "" {
		return domain.LoginTransaction{}, errExpired("no transaction")
	}
	tx, err := s.store.GetLoginTransaction(ctx, in.Form.Transaction, now)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.LoginTransaction{}, errExpired("unknown transaction")
	}
	if err != nil {
		return domain.LoginTransaction{}, err
	}
	// Login CSRF: the token must be the one in this browser's cookie and
	// the one this transaction was created with. Both compare in constant
	// time.
	csrf, cookie := in.Form.CSRFToken, in.Browser.Cookies.CSRF
	if csrf == "" || cookie == "" || !ctEqual([]byte(csrf), []byte(cookie)) || !ctEqual(domain.HashSecret(csrf), tx.CSRFHash) {
		s.log.WarnContext(ctx, "login form CSRF check failed", "event", "login_csrf_failed", "request_id", in.Browser.RequestID,
			"client_id", tx.ClientID, "cookie_present", cookie != "", "source_ip", in.Browser.SourceIP)
		return domain.LoginTransaction{}, refuse(403, "Sign-in refused",
			"The sign-in form could not be verified. Make sure cookies are enabled, then go back to the application and sign in again.")
	}
	return tx, nil
}

// checkPassword is the throttled password check: the user, and whether the
// password is theirs and they may sign in. A *Refusal says the throttle
// refused to check.
func (s *Service) checkPassword(ctx context.Context, b Browser, tx domain.LoginTransaction, email, pw string, now time.Time) (domain.User, bool, error) {
	// Throttle before any password is checked. The attempt is counted
	// first, so that concurrent guesses cannot all pass a check made before
	// any of them was counted; a successful sign-in takes its count back.
	ip := b.SourceIP
	keys := []string{"login:account-ip:" + email + "#" + ip, "login:ip:" + ip, "login:account:" + email}
	limits := []int64{s.cfg.MaxFailuresPerAccountIP, s.cfg.MaxFailuresPerIP, s.cfg.MaxFailuresPerAccount}
	for i, k := range keys {
		n, err := s.store.CountFailure(ctx, k, s.cfg.FailureWindow, now)
		if err != nil {
			return domain.User{}, false, err
		}
		if n > limits[i] {
			s.log.WarnContext(ctx, "login throttled", "event", "login_throttled", "request_id", b.RequestID,
				"client_id", tx.ClientID, "limit", strings.SplitN(k, ":", 3)[1], "source_ip", ip)
			return domain.User{}, false, &Refusal{Status: 429, Title: "Too many attempts", Reason: "throttled",
				Message:    "Too many failed sign-in attempts. Wait a few minutes, then try again.",
				RetryAfter: s.windowLeft(now)}
		}
	}

	// An unknown email costs one argon2id verification too, so that timing
	// does not tell it from a wrong password; both read the same, and so
	// does a disabled account: only its password's owner could tell.
	user, err := s.store.GetUserByEmail(ctx, email)
	ok := false
	switch {
	case errors.Is(err, domain.ErrNotFound):
		password.VerifyDummy(pw)
	case err != nil:
		return domain.User{}, false, err
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
		s.log.WarnContext(ctx, "login failed", "event", "login_failed", "reason", reason, "request_id", b.RequestID,
			"client_id", tx.ClientID, "user_id", user.ID, "source_ip", ip)
		return user, false, nil
	}
	for _, k := range keys {
		if err := s.store.ForgetFailure(ctx, k, s.cfg.FailureWindow, now); err != nil {
			// The attempt stays counted; nothing worse.
			s.log.WarnContext(ctx, "cannot take back a counted sign-in attempt", "request_id", b.RequestID, "error", err.Error())
		}
	}
	return user, true, nil
}

// finishSignIn ends a login transaction whose user has proven who they are
// (with a password, or through the organization's provider): it consumes the
// transaction, starts a session and sends the user back to the application
// with a code.
func (s *Service) finishSignIn(ctx context.Context, b Browser, txID string, app domain.Application, user domain.User, auth authn, now time.Time) (Result, error) {
	// Single use: of concurrent posts of one transaction, one gets it.
	tx, err := s.store.ConsumeLoginTransaction(ctx, txID, now)
	if errors.Is(err, domain.ErrNotFound) {
		return Result{}, errExpired("transaction used")
	}
	if err != nil {
		return Result{}, err
	}
	// Only members of the application's organization sign in to it (RFC
	// 6749 §4.1.2.1, access_denied: "The resource owner or authorization
	// server denied the request").
	if user.MaySignIn(tx.OrganizationID) != nil || app.OrganizationID != tx.OrganizationID {
		s.log.WarnContext(ctx, "login refused: other organization", "event", "login_refused", "reason", "organization",
			"request_id", b.RequestID, "client_id", tx.ClientID, "user_id", user.ID)
		return Result{Outcome: s.errorRedirect(ctx, b, tx.RedirectURI, tx.State,
			&authzError{"access_denied", "the user is not a member of the application's organization"})}, nil
	}

	// A new session; the one the browser had, if any, ends.
	if old := b.Cookies.Session; old != "" {
		if err := s.store.DeleteSession(ctx, domain.HashSecret(old)); err != nil && !errors.Is(err, domain.ErrNotFound) {
			return Result{}, err
		}
	}
	value, hash := domain.NewSecret()
	sess := domain.Session{Hash: hash, ID: domain.NewID(), UserID: user.ID, OrganizationID: user.OrganizationID,
		AuthTime: auth.at, AuthMethod: auth.method, AuthIssuer: auth.issuer, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionLifetime)}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return Result{}, fmt.Errorf("create session: %w", err)
	}
	var res Result
	res.setCookie(SessionCookie, value, int(s.cfg.SessionLifetime/time.Second))
	s.log.InfoContext(ctx, "login succeeded", "event", "login_succeeded", "request_id", b.RequestID,
		"client_id", tx.ClientID, "user_id", user.ID, "session_id", sess.ID, "method", auth.method)
	code, err := s.issueCode(ctx, b, txGrant(tx), sess, user, now)
	res.Outcome = code.Outcome
	return res, err
}

// windowLeft is how long until the current failure window ends.
func (s *Service) windowLeft(now time.Time) time.Duration {
	w := int64(s.cfg.FailureWindow / time.Second)
	return time.Duration(w-now.Unix()%w) * time.Second
}

// FromIssuer reports whether origin, a request's Origin header, is the
// issuer's own: the only site the login form is ever posted from.
func (s *Service) FromIssuer(origin string) bool { return origin == s.origin }

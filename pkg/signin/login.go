package signin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/password"
	"orgauth/pkg/platform/throttle"
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
	tx, known, err := s.loginTransaction(ctx, in, now)
	if err != nil {
		return Result{}, err
	}
	app, err := s.transactionApp(ctx, tx, known)
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
	res, err := s.finishSignIn(ctx, in.Browser, tx, app, user, passwordAuth(now), now)
	if err == nil && res.Outcome != nil {
		// The browser has proven it knows the password: from now on it
		// is trusted for this account (device.go).
		res.setCookie(DeviceCookie, s.newDeviceCookie(email, now.Add(s.cfg.DeviceLifetime)), int(s.cfg.DeviceLifetime/time.Second))
	}
	return res, err
}

// loginTransaction is the form's live login transaction, once the form
// is known to come from this server's page in this browser; and, for a
// pending one, the application its request was read with (nil for a
// stored one: see transactionApp).
func (s *Service) loginTransaction(ctx context.Context, in Login, now time.Time) (domain.LoginTransaction, *domain.Application, error) {
	// The form is only ever posted from this server's own page.
	if in.Origin != "" && in.Origin != s.origin {
		return domain.LoginTransaction{}, nil, refuse(403, "Sign-in refused", "The sign-in form was sent from another site.")
	}
	if in.Form.Transaction == "" {
		return domain.LoginTransaction{}, nil, errExpired("no transaction")
	}
	var tx domain.LoginTransaction
	var err error
	if !isPending(in.Form.Transaction) {
		tx, err = s.store.GetLoginTransaction(ctx, in.Form.Transaction, now)
		if errors.Is(err, domain.ErrNotFound) {
			return domain.LoginTransaction{}, nil, errExpired("unknown transaction")
		}
		if err != nil {
			return domain.LoginTransaction{}, nil, err
		}
	}
	// Login CSRF: the token must be the one in this browser's cookie and
	// (for a stored transaction) the one it was created with. Both compare in constant
	// time.
	csrf, cookie := in.Form.CSRFToken, in.Browser.Cookies.CSRF
	if csrf == "" || cookie == "" || !ctEqual([]byte(csrf), []byte(cookie)) ||
		(!isPending(in.Form.Transaction) && !ctEqual(domain.HashSecret(csrf), tx.CSRFHash)) {
		s.log.WarnContext(ctx, "login form CSRF check failed", "event", "login_csrf_failed", "request_id", in.Browser.RequestID,
			"client_id", tx.ClientID, "cookie_present", cookie != "", "source_ip", in.Browser.SourceIP)
		return domain.LoginTransaction{}, nil, refuse(403, "Sign-in refused",
			"The sign-in form could not be verified. Make sure cookies are enabled, then go back to the application and sign in again.")
	}
	if isPending(in.Form.Transaction) {
		return s.pendingTransaction(ctx, in.Form.Transaction, csrf, now)
	}
	return tx, nil, nil
}

// transactionApp is tx's application: known when reading tx read it
// already (a pending transaction's request), otherwise read now. One
// deleted since tx began is errAppGone.
func (s *Service) transactionApp(ctx context.Context, tx domain.LoginTransaction, known *domain.Application) (domain.Application, error) {
	if known != nil {
		return *known, nil
	}
	app, err := s.store.GetApplication(ctx, tx.ClientID)
	if errors.Is(err, domain.ErrNotFound) {
		return app, errAppGone()
	}
	return app, err
}

// checkPassword is the throttled password check: the user, and whether the
// password is theirs and they may sign in. A *Refusal says the throttle
// refused to check.
func (s *Service) checkPassword(ctx context.Context, b Browser, tx domain.LoginTransaction, email, pw string, now time.Time) (domain.User, bool, error) {
	// Throttle before any password is checked. Each attempt is counted
	// first, so that concurrent guesses cannot all pass a check made
	// before any of them was counted; a successful sign-in takes its
	// counts back.
	counted, err := s.admit(ctx, b, tx, email, now)
	if err != nil {
		return domain.User{}, false, err
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
			"client_id", tx.ClientID, "user_id", user.ID, "source_ip", b.SourceIP)
		return user, false, nil
	}
	if err := s.throttle.Forget(ctx, now, counted...); err != nil {
		// The attempt stays counted; nothing worse.
		s.log.WarnContext(ctx, "cannot take back a counted sign-in attempt", "request_id", b.RequestID, "error", err.Error())
	}
	return user, true, nil
}

// admit counts a sign-in attempt before its password is checked, and
// returns the keys it counted, or a *Refusal.
//
//   - A browser with a valid device cookie for the account counts against
//     its own device only: strangers cannot slow its owner down.
//   - Any other browser counts against the account from its address and
//     against its address (hard limits, until the window ends: they only
//     stop the party that fails), and against the account. Past the
//     account's threshold it gets one attempt at the account per delay,
//     a delay that doubles with each further attempt up to
//     MaxAccountDelay; and the account's attack is logged.
func (s *Service) admit(ctx context.Context, b Browser, tx domain.LoginTransaction, email string, now time.Time) ([]string, error) {
	ip := b.SourceIP
	if dev := s.trustedDevice(b.Cookies.Device, email, now); dev != nil {
		lim := throttle.Limit{Key: "login:device:" + dev.id, Max: s.cfg.MaxFailuresPerDevice}
		blocked, err := s.throttle.Count(ctx, now, lim)
		if err != nil {
			return nil, err
		}
		if blocked != nil {
			return nil, s.refuseAttempt(ctx, b, tx, "device", blocked.RetryAfter)
		}
		return []string{lim.Key}, nil
	}
	limits := []throttle.Limit{
		{Key: "login:account-ip:" + email + "#" + ip, Max: s.cfg.MaxFailuresPerAccountIP},
		{Key: "login:ip:" + ip, Max: s.cfg.MaxFailuresPerIP},
	}
	blocked, err := s.throttle.Count(ctx, now, limits...)
	if err != nil {
		return nil, err
	}
	if blocked != nil {
		return nil, s.refuseAttempt(ctx, b, tx, strings.SplitN(blocked.Limit.Key, ":", 3)[1], blocked.RetryAfter)
	}
	account := throttle.Limit{Key: "login:account:" + email, Max: s.cfg.MaxFailuresPerAccount}
	counted := []string{limits[0].Key, limits[1].Key, account.Key}
	over, err := s.throttle.Count(ctx, now, account)
	if err != nil {
		return nil, err
	}
	s.attacks.add(email, ip)
	if over == nil {
		return counted, nil
	}
	n := over.Count
	excess := n - account.Max
	if excess == 1 || excess%account.Max == 0 {
		s.log.WarnContext(ctx, "account under attack: sign-ins from browsers without its device cookie are slowed down",
			"event", "login_account_under_attack", "request_id", b.RequestID, "account", email,
			"attempts_in_window", n, "threshold", account.Max, "window_seconds", int(s.cfg.FailureWindow/time.Second),
			"source_ips_sample", s.attacks.sample(email), "source_ip", ip)
	}
	delay := s.cfg.MaxAccountDelay
	if excess <= 16 && time.Second<<(excess-1) < delay {
		delay = time.Second << (excess - 1)
	}
	ok, wait, err := s.throttle.Slot(ctx, now, "login:account-delay:"+email, delay)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, s.refuseAttempt(ctx, b, tx, "account", wait)
	}
	return counted, nil
}

// refuseAttempt is the 429 page of a throttled sign-in attempt.
func (s *Service) refuseAttempt(ctx context.Context, b Browser, tx domain.LoginTransaction, limit string, wait time.Duration) error {
	s.log.WarnContext(ctx, "login throttled", "event", "login_throttled", "request_id", b.RequestID,
		"client_id", tx.ClientID, "limit", limit, "retry_after", int(wait/time.Second), "source_ip", b.SourceIP)
	msg := "Too many failed sign-in attempts. Wait a few minutes, then try again."
	if limit == "account" {
		msg = "Too many failed sign-in attempts for this account. Wait a minute, then try again; " +
			"from a browser you signed in with before, you can sign in now."
	}
	return &Refusal{Status: 429, Title: "Too many attempts", Reason: "throttled", Message: msg, RetryAfter: wait}
}

// attackLog keeps, per instance, a few source addresses of recent
// attempts at each account under attack, for the audit line. It is a
// sample for the operator, never a count the throttle relies on.
type attackLog struct {
	mu   sync.Mutex
	seen map[string][]string // account -> up to 5 addresses, newest last
}

func newAttackLog() *attackLog { return &attackLog{seen: map[string][]string{}} }

func (a *attackLog) add(account, ip string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.seen) > 1000 {
		clear(a.seen)
	}
	ips := a.seen[account]
	if slices.Contains(ips, ip) {
		return
	}
	if len(ips) == 5 {
		ips = ips[1:]
	}
	a.seen[account] = append(ips, ip)
}

func (a *attackLog) sample(account string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.seen[account])
}

// finishSignIn ends a login transaction whose user has proven who they are
// (with a password, or through the organization's provider): it consumes the
// transaction, starts a session and sends the user back to the application
// with a code.
func (s *Service) finishSignIn(ctx context.Context, b Browser, tx domain.LoginTransaction, app domain.Application, user domain.User, auth authn, now time.Time) (Result, error) {
	// Single use: of concurrent posts of one transaction, one gets it.
	tx, err := s.useTransaction(ctx, tx, now)
	if errors.Is(err, domain.ErrNotFound) {
		return Result{}, errExpired("transaction used")
	}
	if err != nil {
		return Result{}, err
	}
	return s.signInUser(ctx, b, tx, app, user, auth, now)
}

// signInUser finishes a login transaction that has been used (useTransaction,
// or the callback's markUsed): it starts a session and sends the user back
// to the application with a code.
func (s *Service) signInUser(ctx context.Context, b Browser, tx domain.LoginTransaction, app domain.Application, user domain.User, auth authn, now time.Time) (Result, error) {
	// Only members of the application's organization sign in to it (RFC
	// 6749 §4.1.2.1, access_denied: "The resource owner or authorization
	// server denied the request").
	// The console admits every organization's members (domain.Admits).
	if org := app.ForOrganization(user.OrganizationID).OrganizationID; user.MaySignIn(org) != nil || !app.Admits(org) || tx.OrganizationID != app.OrganizationID {
		s.log.WarnContext(ctx, "login refused: other organization", "event", "login_refused", "reason", "organization",
			"request_id", b.RequestID, "client_id", tx.ClientID, "user_id", user.ID, "source_ip", b.SourceIP)
		// In the request's response mode: a popup (web_message) gets the
		// error by message, as it would have got the code.
		return Result{Outcome: s.errorResponse(ctx, b, tx.RedirectURI, tx.State, tx.ResponseMode,
			&authzError{"access_denied", "the user is not a member of the application's organization"})}, nil
	}

	var err error
	if auth.method == domain.AuthSSO {
		if user, err = s.providerVerifiedEmail(ctx, user, now); err != nil {
			return Result{}, err
		}
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
		"client_id", tx.ClientID, "user_id", user.ID, "session_id", sess.ID, "method", auth.method, "source_ip", b.SourceIP)
	next, err := s.signedIn(ctx, b, app, txGrant(tx), tx.Prompt, sess, user, now)
	res.Outcome, res.Cookies = next.Outcome, append(res.Cookies, next.Cookies...)
	return res, err
}

// FromIssuer reports whether origin, a request's Origin header, is the
// issuer's own: the only site the login form is ever posted from.
func (s *Service) FromIssuer(origin string) bool { return origin == s.origin }

package signin

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/platform/required"
)

// Callback completes the hand-off to an organization's provider: the
// provider returns the user to GET /callback with a code (or an error) and
// the state: the SSO transaction, sealed (ssostate.go). It alone holds the SecretOpener that
// decrypts the organization's upstream client secret.
type Callback struct {
	s       *Service
	secrets SecretOpener
}

// NewCallback returns the callback's service, or an error naming a missing
// dependency.
func NewCallback(d Deps, secrets SecretOpener, cfg Config) (*Callback, error) {
	if err := required.Check("callback", required.Dep{Name: "Secrets", Value: secrets}); err != nil {
		return nil, err
	}
	s, err := New(d, cfg)
	if err != nil {
		return nil, err
	}
	return &Callback{s: s, secrets: secrets}, nil
}

// SessionLifetime is how long a session cookie is kept.
func (c *Callback) SessionLifetime() time.Duration { return c.s.cfg.SessionLifetime }

// CallbackParams are the provider's answer (RFC 6749 §4.1.2, §4.1.2.1,
// RFC 9207 §2), and where it arrived.
type CallbackParams struct {
	State string
	Code  string
	Error string
	Iss   string
	// Org is the organization the redirect URI names (/callback/{org});
	// "" at the shared, legacy /callback.
	Org string
}

// ParseCallback reads the callback's query, refusing repeated parameters;
// org is the organization named by the path ("" at /callback).
func ParseCallback(rawQuery, org string) (CallbackParams, error) {
	q, _ := url.ParseQuery(rawQuery) // what parses is what the provider sent
	p, repeated := single(q)
	if repeated != "" {
		return CallbackParams{}, &Refusal{Status: 400, Title: "Invalid request", Reason: "repeated parameter",
			Message: "The sign-in response repeats " + repeated + "."}
	}
	return CallbackParams{State: p["state"], Code: p["code"], Error: p["error"], Iss: p["iss"], Org: org}, nil
}

// refused logs a refusal of an SSO sign-in and returns it.
func (c *Callback) refused(ctx context.Context, b Browser, e *Refusal, args ...any) *Refusal {
	c.s.log.WarnContext(ctx, "SSO sign-in refused", append([]any{"event", "sso_refused", "reason", e.Reason,
		"request_id", b.RequestID, "source_ip", b.SourceIP}, args...)...)
	return e
}

// Complete verifies the provider's answer and finishes the login
// transaction, as the password form does.
func (c *Callback) Complete(ctx context.Context, p CallbackParams, b Browser) (Result, error) {
	s := c.s
	now := s.now()
	stx, tx, err := c.transactions(ctx, p, b, now)
	if err != nil {
		return Result{}, err
	}
	app, err := s.transactionApp(ctx, tx, nil) // the sealed state names it only by id
	if err != nil {
		return Result{}, err
	}
	// The redirect URI was checked when the state was sealed; an
	// application that has since dropped it gets nothing sent there.
	if app.Type != domain.ClientSPA || !app.RegistersRedirectURI(tx.RedirectURI) {
		return Result{}, c.refused(ctx, b, &Refusal{Status: 400, Title: "Invalid redirect URI", Reason: "redirect uri no longer registered",
			Message: "The address this application asked to return to is no longer registered for it, so you were not sent there."},
			"client_id", tx.ClientID)
	}
	sso, err := s.ssoFor(ctx, app)
	if err != nil {
		return Result{}, err
	}
	if sso == nil || app.OrganizationID != stx.OrganizationID {
		return Result{}, c.refused(ctx, b, errExpired("SSO no longer configured"))
	}
	// RFC 9700 §4.4: the answer of the provider this transaction asked,
	// at the redirect URI it gave (mixup.go).
	if err := c.checkResponder(ctx, b, p, stx, sso); err != nil {
		return Result{}, err
	}
	// RFC 6749 §4.1.2.1 from the provider: the user refused, or it failed.
	if p.Error != "" {
		return c.upstreamError(ctx, b, tx, p.Error), nil
	}
	if p.Code == "" {
		return Result{}, c.refused(ctx, b, &Refusal{Status: 400, Title: "Invalid request", Reason: "no code",
			Message: "The sign-in response carries no code."})
	}
	id, err := c.exchange(ctx, b, stx, tx, sso, p.Code)
	if err != nil {
		return Result{}, err
	}
	// Single use: the provider really signed the user in, so the state is
	// spent now, in one conditional write (the first the callback makes);
	// of concurrent callbacks with one state, one goes on.
	if err := s.markUsed(ctx, tx, now); errors.Is(err, domain.ErrNotFound) {
		return Result{}, c.refused(ctx, b, errExpired("used state"), "client_id", tx.ClientID)
	} else if err != nil {
		return Result{}, err
	}
	// The re-authentication the application asked for (reauth.go).
	authTime, stale := c.upstreamAuthTime(ctx, b, stx, tx, id, now)
	if stale != nil {
		return c.endWithError(ctx, b, tx, stale), nil
	}
	user, err := c.user(ctx, b, sso, stx.OrganizationID, tx.ClientID, id, now)
	if err != nil {
		return Result{}, err
	}
	var res Result
	res.setCookie(SSOBindingCookie, "", -1)
	done, err := s.signInUser(ctx, b, tx, app, user, ssoAuth(sso.Issuer, authTime), now)
	res.Outcome, res.Cookies = done.Outcome, append(res.Cookies, done.Cookies...)
	return res, err
}

// transactions opens the sealed state (ssostate.go): the SSO transaction
// and its login transaction, once the state is known to be this stage's,
// live, unused, and back in the browser that started it. It writes
// nothing. The binding is checked before anything is spent: a state
// opened in another browser (leaked, or replayed) leaves the sign-in to
// the browser that started it.
func (c *Callback) transactions(ctx context.Context, p CallbackParams, b Browser, now time.Time) (domain.SSOTransaction, domain.LoginTransaction, error) {
	s := c.s
	stx, tx, err := s.open(p.State, now)
	if err != nil {
		return stx, tx, c.refused(ctx, b, errExpired("unknown or used state"), "detail", err.Error())
	}
	used, err := s.wasUsed(ctx, tx, now)
	if err != nil {
		return stx, tx, err
	}
	if used {
		return stx, tx, c.refused(ctx, b, errExpired("unknown or used state"), "client_id", stx.ClientID)
	}
	binding := b.Cookies.SSOBinding
	if binding == "" || !ctEqual(domain.HashSecret(binding), stx.BindingHash) {
		return stx, tx, c.refused(ctx, b, &Refusal{Status: 403, Title: "Sign-in refused", Reason: "browser binding",
			Message: "This sign-in was started in another browser. Go back to the application and sign in again."},
			"client_id", stx.ClientID, "cookie_present", binding != "")
	}
	return stx, tx, nil
}

// upstreamError tells the application the provider did not sign the user
// in. It writes nothing: only an answer with a code that verifies spends
// the state, and the binding cookie, which the state needs, is dropped.
func (c *Callback) upstreamError(ctx context.Context, b Browser, tx domain.LoginTransaction, code string) Result {
	c.s.log.InfoContext(ctx, "organization identity provider answered an error", "event", "sso_upstream_error",
		"request_id", b.RequestID, "client_id", tx.ClientID, "error", code)
	e := &authzError{"access_denied", "the user was not signed in by the organization's identity provider"}
	switch code {
	case "temporarily_unavailable", "server_error":
		e = &authzError{"temporarily_unavailable", "the organization's identity provider could not sign the user in"}
	case "login_required":
		// The provider would not re-authenticate as asked (prompt=login or
		// max_age): so is it for the application.
		e = &authzError{"login_required", "the organization's identity provider did not authenticate the user again"}
	}
	return c.endWithError(ctx, b, tx, e)
}

// endWithError ends the sign-in in this browser (its binding cookie goes)
// and sends the application e.
func (c *Callback) endWithError(ctx context.Context, b Browser, tx domain.LoginTransaction, e *authzError) Result {
	var res Result
	res.setCookie(SSOBindingCookie, "", -1)
	res.Outcome = c.s.errorResponse(ctx, b, tx.RedirectURI, tx.State, tx.ResponseMode, e)
	return res
}

// exchange redeems the provider's code and checks the identity it
// vouches for: OpenID Connect Core §5.7, the email is the user's only if the
// provider verified it; and only the organization's domains are its.
func (c *Callback) exchange(ctx context.Context, b Browser, stx domain.SSOTransaction, tx domain.LoginTransaction, sso *orgSSO, code string) (domain.UpstreamIdentity, error) {
	s := c.s
	secret, err := c.secrets.Decrypt(ctx, stx.OrganizationID, sso.ClientSecretCiphertext)
	if err != nil {
		s.log.ErrorContext(ctx, "cannot decrypt the upstream client secret", "request_id", b.RequestID,
			"org_id", stx.OrganizationID, "error", err.Error())
		return domain.UpstreamIdentity{}, &Refusal{Status: 503, Title: "Sign-in unavailable", Reason: "secret",
			Message: "Your organization's sign-in cannot be completed right now. Try again in a moment."}
	}
	id, err := s.upstream.Exchange(ctx, sso.SSO, string(secret), stx.RedirectURI, code, pkceVerifier(b.Cookies.SSOBinding, stx.State), stx.Nonce)
	switch {
	case errors.Is(err, domain.ErrUpstreamRejected):
		return id, c.refused(ctx, b, &Refusal{Status: 400, Title: "Sign-in refused", Reason: "upstream answer",
			Message: "Your organization's sign-in service sent an answer that could not be verified. Go back to the application and sign in again."},
			"client_id", tx.ClientID, "error", err.Error())
	case err != nil:
		return id, s.upstreamUnavailable(ctx, b, tx.ClientID, err)
	}
	if !id.EmailVerified {
		return id, c.refused(ctx, b, &Refusal{Status: 403, Title: "Sign-in refused", Reason: "email not verified",
			Message: "Your organization's sign-in service did not confirm your email address, so orgauth cannot tell who you are."},
			"client_id", tx.ClientID, "upstream_sub", id.Subject)
	}
	if !sso.HasDomain(id.Email) { // a verified domain of the organization's SSO
		return id, c.refused(ctx, b, &Refusal{Status: 403, Title: "Sign-in refused", Reason: "email domain",
			Message: "Your email address is not in one of your organization's domains."},
			"client_id", tx.ClientID, "upstream_sub", id.Subject)
	}
	return id, nil
}

// user is the orgauth user who signs in with the upstream identity id, or
// a Refusal saying why nobody may.
func (c *Callback) user(ctx context.Context, b Browser, sso *orgSSO, orgID, clientID string, id domain.UpstreamIdentity, now time.Time) (domain.User, error) {
	user, msg, err := c.upstreamUser(ctx, b, sso, orgID, id, now)
	if err != nil {
		return user, err
	}
	if msg != "" {
		return user, c.refused(ctx, b, &Refusal{Status: 403, Title: "Sign-in refused", Message: msg, Reason: "no user"},
			"client_id", clientID, "upstream_sub", id.Subject)
	}
	if errors.Is(user.MaySignIn(orgID), domain.ErrUserDisabled) {
		return user, c.refused(ctx, b, &Refusal{Status: 403, Title: "Sign-in refused", Reason: "disabled",
			Message: "Your account is disabled. Contact your organization's administrator."}, "user_id", user.ID)
	}
	return user, nil
}

// upstreamUser is the orgauth user of an upstream identity: the one it is
// linked to; otherwise the organization's user with its email, linked now;
// otherwise a new user when the organization provisions them. msg, when
// set, says why nobody may sign in.
func (c *Callback) upstreamUser(ctx context.Context, b Browser, sso *orgSSO, orgID string, id domain.UpstreamIdentity, now time.Time) (domain.User, string, error) {
	link, err := c.s.store.GetUpstreamLink(ctx, id.Issuer, id.Subject)
	switch {
	case err == nil:
		u, err := c.s.store.GetUser(ctx, link.UserID)
		if errors.Is(err, domain.ErrNotFound) || (err == nil && u.OrganizationID != orgID) {
			return domain.User{}, "Your account at your organization's sign-in service is linked to an account that no longer belongs to this organization.", nil
		}
		return u, "", err
	case !errors.Is(err, domain.ErrNotFound):
		return domain.User{}, "", fmt.Errorf("read upstream link: %w", err)
	}
	u, err := c.s.store.GetUserByEmail(ctx, id.Email)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		if !sso.Provision {
			return domain.User{}, "There is no account for your email address in this organization. Ask your organization's administrator to create one.", nil
		}
		role := sso.ProvisionRole
		if role == "" {
			role = domain.RoleMember
		}
		// No organization creates users in a domain another verified.
		if msg, err := c.domainFree(ctx, orgID, id.Email); msg != "" || err != nil {
			return domain.User{}, msg, err
		}
		u = domain.User{ID: domain.NewID(), OrganizationID: orgID, Email: id.Email, Name: id.Name, Role: role, CreatedAt: now, UpdatedAt: now}
		if err := c.s.store.CreateUser(ctx, u); errors.Is(err, domain.ErrAlreadyExists) {
			// A concurrent first sign-in created it: use that one.
			if u, err = c.s.store.GetUserByEmail(ctx, id.Email); err != nil {
				return domain.User{}, "", fmt.Errorf("read provisioned user: %w", err)
			}
		} else if err != nil {
			return domain.User{}, "", fmt.Errorf("provision user: %w", err)
		} else {
			c.s.log.InfoContext(ctx, "user provisioned by SSO", "event", "user_provisioned", "request_id", b.RequestID,
				"user_id", u.ID, "org_id", orgID, "role", string(role), "upstream", id.Issuer)
		}
	case err != nil:
		return domain.User{}, "", fmt.Errorf("read user by email: %w", err)
	}
	if u.OrganizationID != orgID {
		return domain.User{}, "Your email address belongs to an account of another organization.", nil
	}
	err = c.s.store.LinkUpstream(ctx, domain.UpstreamLink{Issuer: id.Issuer, Subject: id.Subject, UserID: u.ID, OrganizationID: orgID, CreatedAt: now})
	if errors.Is(err, domain.ErrAlreadyExists) {
		// A concurrent first sign-in linked it: it must be to this user.
		link, err := c.s.store.GetUpstreamLink(ctx, id.Issuer, id.Subject)
		if err != nil {
			return domain.User{}, "", fmt.Errorf("read upstream link: %w", err)
		}
		if link.UserID != u.ID {
			return domain.User{}, "Your account at your organization's sign-in service is linked to another account.", nil
		}
	} else if err != nil {
		return domain.User{}, "", fmt.Errorf("link upstream identity: %w", err)
	} else {
		c.s.log.InfoContext(ctx, "upstream identity linked", "event", "upstream_linked", "request_id", b.RequestID,
			"user_id", u.ID, "org_id", orgID, "upstream", id.Issuer)
	}
	return u, "", nil
}

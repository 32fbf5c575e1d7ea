package authorize

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/platform/httpx"
)

// Organization SSO: users of an organization with its own OpenID provider
// sign in there. GET /authorize and POST /login send them upstream
// (goUpstream); the provider sends them back to GET /callback, which
// verifies its answer and finishes the login transaction exactly like the
// password form does.

// ssoCookie holds the browser's binding secret: an SSO transaction is only
// finished by the browser that started it (see domain.SSOTransaction).
const ssoCookie = "orgauth_sso"

// ssoFor is the organization's provider when it signs users in to app.
func (h *Handler) ssoFor(ctx context.Context, app domain.Application) (*domain.SSO, error) {
	org, err := h.store.GetOrganization(ctx, app.OrganizationID)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read organization: %w", err)
	}
	if !org.SSO.AppliesTo(app.ClientID) {
		return nil, nil
	}
	return org.SSO, nil
}

// formTargets are where the login form's POST may end up: the application,
// and the provider's authorization endpoint when SSO applies.
func (h *Handler) formTargets(ctx context.Context, tx domain.LoginTransaction, sso *domain.SSO) []string {
	targets := []string{tx.RedirectURI}
	if sso != nil {
		if ep, err := h.upstream.AuthorizationEndpoint(ctx, sso); err == nil {
			targets = append(targets, ep)
		} else {
			targets = append(targets, sso.Issuer)
		}
	}
	return targets
}

func (h *Handler) callbackURL() string { return h.cfg.Issuer + "/callback" }

// pkceVerifier derives the PKCE code verifier of one upstream request from
// the browser's binding secret and the request's state: 43 base64url
// characters (RFC 7636 §4.1), stored nowhere.
func pkceVerifier(binding, state string) string {
	sum := sha256.Sum256([]byte("orgauth sso pkce\x00" + binding + "\x00" + state))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// goUpstream sends the user to the organization's provider: authorization
// code with PKCE S256, a fresh state and nonce, held in a single-use SSO
// transaction bound to this browser.
func (h *Handler) goUpstream(w http.ResponseWriter, r *http.Request, tx domain.LoginTransaction, sso *domain.SSO, loginHint string) {
	ctx := r.Context()
	now := h.now()
	// One binding secret per browser, like the CSRF token: a second tab's
	// sign-in keeps the first one's working.
	binding := h.cookie(r, ssoCookie)
	if len(binding) != 43 {
		binding, _ = domain.NewSecret()
	}
	nonce, _ := domain.NewSecret()
	stx := domain.SSOTransaction{
		State: domain.NewID(), LoginTransactionID: tx.ID, OrganizationID: tx.OrganizationID, ClientID: tx.ClientID,
		Nonce: nonce, BindingHash: domain.HashSecret(binding), CreatedAt: now, ExpiresAt: tx.ExpiresAt,
	}
	target, err := h.upstream.AuthCodeURL(ctx, sso, h.callbackURL(), stx.State, stx.Nonce, pkceVerifier(binding, stx.State), loginHint)
	if err != nil {
		h.upstreamUnavailable(w, r, tx.ClientID, err)
		return
	}
	if err := h.store.CreateSSOTransaction(ctx, stx); err != nil {
		h.serverError(w, r, fmt.Errorf("create SSO transaction: %w", err))
		return
	}
	h.setCookie(w, ssoCookie, binding, max(1, int(tx.ExpiresAt.Sub(now)/time.Second)))
	h.log.InfoContext(ctx, "sign-in sent upstream", "event", "sso_started", "request_id", requestID(r),
		"client_id", tx.ClientID, "org_id", tx.OrganizationID, "upstream", sso.Issuer)
	h.redirect(w, r, target)
}

func (h *Handler) upstreamUnavailable(w http.ResponseWriter, r *http.Request, clientID string, err error) {
	h.log.WarnContext(r.Context(), "organization identity provider unavailable", "event", "sso_upstream_unavailable",
		"request_id", requestID(r), "client_id", clientID, "error", err.Error())
	h.errorPage(w, r, http.StatusBadGateway, "Sign-in service unavailable",
		"Your organization's sign-in service did not answer. Try again in a moment; if it keeps failing, tell your organization's administrator.")
}

// callback is GET /callback: the organization's provider returns the user
// here with a code (or an error) and the state of the SSO transaction.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	if !h.getOnly(w, r) {
		return
	}
	ctx := r.Context()
	now := h.now()
	refuse := func(status int, title, msg, reason string, args ...any) {
		h.log.WarnContext(ctx, "SSO sign-in refused", append([]any{"event", "sso_refused", "reason", reason,
			"request_id", requestID(r), "source_ip", httpx.SourceIP(r)}, args...)...)
		h.errorPage(w, r, status, title, msg)
	}
	expired := func(reason string) {
		refuse(http.StatusBadRequest, "Sign-in expired",
			"This sign-in has expired or was already used. Go back to the application and sign in again.", reason)
	}
	q, repeated := single(r.URL.Query())
	if repeated != "" {
		refuse(http.StatusBadRequest, "Invalid request", "The sign-in response repeats "+repeated+".", "repeated parameter")
		return
	}
	// Single use, and from the browser that started it.
	stx, err := h.store.ConsumeSSOTransaction(ctx, q["state"], now)
	if errors.Is(err, domain.ErrNotFound) {
		expired("unknown or used state")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	binding := h.cookie(r, ssoCookie)
	if binding == "" || !ctEqual(domain.HashSecret(binding), stx.BindingHash) {
		refuse(http.StatusForbidden, "Sign-in refused",
			"This sign-in was started in another browser. Go back to the application and sign in again.",
			"browser binding", "client_id", stx.ClientID, "cookie_present", binding != "")
		return
	}
	tx, err := h.store.GetLoginTransaction(ctx, stx.LoginTransactionID, now)
	if errors.Is(err, domain.ErrNotFound) {
		expired("login transaction gone")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	// RFC 6749 §4.1.2.1 from the provider: the user refused, or it failed.
	if code := q["error"]; code != "" {
		h.log.InfoContext(ctx, "organization identity provider answered an error", "event", "sso_upstream_error",
			"request_id", requestID(r), "client_id", tx.ClientID, "error", code)
		if _, err := h.store.ConsumeLoginTransaction(ctx, tx.ID, now); err != nil && !errors.Is(err, domain.ErrNotFound) {
			h.serverError(w, r, err)
			return
		}
		e := &authzError{"access_denied", "the user was not signed in by the organization's identity provider"}
		if code == "temporarily_unavailable" || code == "server_error" {
			e = &authzError{"temporarily_unavailable", "the organization's identity provider could not sign the user in"}
		}
		h.redirectError(w, r, tx.RedirectURI, tx.State, e)
		return
	}
	code := q["code"]
	if code == "" {
		refuse(http.StatusBadRequest, "Invalid request", "The sign-in response carries no code.", "no code")
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
	sso, err := h.ssoFor(ctx, app)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if sso == nil || app.OrganizationID != stx.OrganizationID {
		expired("SSO no longer configured")
		return
	}
	secret, err := h.secrets.Decrypt(ctx, stx.OrganizationID, sso.ClientSecretCiphertext)
	if err != nil {
		h.log.ErrorContext(ctx, "cannot decrypt the upstream client secret", "request_id", requestID(r),
			"org_id", stx.OrganizationID, "error", err.Error())
		h.errorPage(w, r, http.StatusServiceUnavailable, "Sign-in unavailable",
			"Your organization's sign-in cannot be completed right now. Try again in a moment.")
		return
	}
	id, err := h.upstream.Exchange(ctx, sso, string(secret), h.callbackURL(), code, pkceVerifier(binding, stx.State), stx.Nonce)
	switch {
	case errors.Is(err, domain.ErrUpstreamRejected):
		refuse(http.StatusBadRequest, "Sign-in refused",
			"Your organization's sign-in service sent an answer that could not be verified. Go back to the application and sign in again.",
			"upstream answer", "client_id", tx.ClientID, "error", err.Error())
		return
	case err != nil:
		h.upstreamUnavailable(w, r, tx.ClientID, err)
		return
	}
	// OpenID Connect Core §5.7: the email is the user's only if the
	// provider verified it; and only the organization's domains are its.
	if !id.EmailVerified {
		refuse(http.StatusForbidden, "Sign-in refused",
			"Your organization's sign-in service did not confirm your email address, so orgauth cannot tell who you are.",
			"email not verified", "client_id", tx.ClientID, "upstream_sub", id.Subject)
		return
	}
	if !sso.HasDomain(id.Email) {
		refuse(http.StatusForbidden, "Sign-in refused",
			"Your email address is not in one of your organization's domains.",
			"email domain", "client_id", tx.ClientID, "upstream_sub", id.Subject)
		return
	}
	user, msg, err := h.upstreamUser(ctx, sso, stx.OrganizationID, id, now)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if msg != "" {
		refuse(http.StatusForbidden, "Sign-in refused", msg, "no user", "client_id", tx.ClientID, "upstream_sub", id.Subject)
		return
	}
	if errors.Is(user.MaySignIn(stx.OrganizationID), domain.ErrUserDisabled) {
		refuse(http.StatusForbidden, "Sign-in refused",
			"Your account is disabled. Contact your organization's administrator.", "disabled", "user_id", user.ID)
		return
	}
	h.setCookie(w, ssoCookie, "", -1)
	h.finishSignIn(w, r, tx.ID, app, user, "sso", now)
}

// upstreamUser is the orgauth user of an upstream identity: the one it is
// linked to; otherwise the organization's user with its email, linked now;
// otherwise a new user when the organization provisions them. msg, when
// set, says why nobody may sign in.
func (h *Handler) upstreamUser(ctx context.Context, sso *domain.SSO, orgID string, id domain.UpstreamIdentity, now time.Time) (domain.User, string, error) {
	link, err := h.store.GetUpstreamLink(ctx, id.Issuer, id.Subject)
	switch {
	case err == nil:
		u, err := h.store.GetUser(ctx, link.UserID)
		if errors.Is(err, domain.ErrNotFound) || (err == nil && u.OrganizationID != orgID) {
			return domain.User{}, "Your account at your organization's sign-in service is linked to an account that no longer belongs to this organization.", nil
		}
		return u, "", err
	case !errors.Is(err, domain.ErrNotFound):
		return domain.User{}, "", fmt.Errorf("read upstream link: %w", err)
	}
	u, err := h.store.GetUserByEmail(ctx, id.Email)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		if !sso.Provision {
			return domain.User{}, "There is no account for your email address in this organization. Ask your organization's administrator to create one.", nil
		}
		role := sso.ProvisionRole
		if role == "" {
			role = domain.RoleMember
		}
		u = domain.User{ID: domain.NewID(), OrganizationID: orgID, Email: id.Email, Name: id.Name, Role: role, CreatedAt: now, UpdatedAt: now}
		if err := h.store.CreateUser(ctx, u); errors.Is(err, domain.ErrAlreadyExists) {
			// A concurrent first sign-in created it: use that one.
			if u, err = h.store.GetUserByEmail(ctx, id.Email); err != nil {
				return domain.User{}, "", fmt.Errorf("read provisioned user: %w", err)
			}
		} else if err != nil {
			return domain.User{}, "", fmt.Errorf("provision user: %w", err)
		} else {
			h.log.InfoContext(ctx, "user provisioned by SSO", "event", "user_provisioned", "request_id", httpx.RequestID(ctx),
				"user_id", u.ID, "org_id", orgID, "role", string(role), "upstream", id.Issuer)
		}
	case err != nil:
		return domain.User{}, "", fmt.Errorf("read user by email: %w", err)
	}
	if u.OrganizationID != orgID {
		return domain.User{}, "Your email address belongs to an account of another organization.", nil
	}
	err = h.store.LinkUpstream(ctx, domain.UpstreamLink{Issuer: id.Issuer, Subject: id.Subject, UserID: u.ID, OrganizationID: orgID, CreatedAt: now})
	if errors.Is(err, domain.ErrAlreadyExists) {
		// A concurrent first sign-in linked it: it must be to this user.
		link, err := h.store.GetUpstreamLink(ctx, id.Issuer, id.Subject)
		if err != nil {
			return domain.User{}, "", fmt.Errorf("read upstream link: %w", err)
		}
		if link.UserID != u.ID {
			return domain.User{}, "Your account at your organization's sign-in service is linked to another account.", nil
		}
	} else if err != nil {
		return domain.User{}, "", fmt.Errorf("link upstream identity: %w", err)
	} else {
		h.log.InfoContext(ctx, "upstream identity linked", "event", "upstream_linked", "request_id", httpx.RequestID(ctx),
			"user_id", u.ID, "org_id", orgID, "upstream", id.Issuer)
	}
	return u, "", nil
}

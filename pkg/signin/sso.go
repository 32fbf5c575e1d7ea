package signin

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/domain/address"
)

// Organization SSO: users of an organization with its own OpenID provider
// sign in there. Authorize and Login send them upstream (goUpstream); the
// provider sends them back to the callback, which verifies its answer and
// finishes the login transaction exactly like the password form does.

// orgSSO is an organization's provider, with the organization: its
// domains count only once the organization verified them (HasDomain).
type orgSSO struct {
	*domain.SSO
	org domain.Organization
}

// HasDomain reports whether email is a valid address
// (address.NormalizeEmail) that the provider signs in: in its domains, and
// in one the organization verified (domain.SSODomain).
func (o *orgSSO) HasDomain(email string) bool {
	if o == nil {
		return false
	}
	e, err := address.NormalizeEmail(email)
	return err == nil && o.org.SSODomain(e)
}

// admits reports whether a session of the organization may sign its user in
// to an application the provider applies to: any session, unless SSO is
// enforced, when only one the provider authenticated may.
func (o *orgSSO) admits(sess domain.Session) bool {
	return o == nil || !o.Enforced || sess.AuthenticatedBy(o.Issuer)
}

// ssoFor is the organization's provider when it signs users in to app.
func (s *Service) ssoFor(ctx context.Context, app domain.Application) (*orgSSO, error) {
	org, err := s.store.GetOrganization(ctx, app.OrganizationID)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read organization: %w", err)
	}
	if !org.SSO.AppliesTo(app.ClientID) {
		return nil, nil
	}
	return &orgSSO{SSO: org.SSO, org: org}, nil
}

// formTargets are where the login form's POST may end up: the application,
// and the provider's authorization endpoint when SSO applies.
func (s *Service) formTargets(ctx context.Context, tx domain.LoginTransaction, sso *orgSSO) []string {
	targets := []string{tx.RedirectURI}
	if sso != nil {
		if ep, err := s.upstream.AuthorizationEndpoint(ctx, sso.SSO); err == nil {
			targets = append(targets, ep)
		} else {
			targets = append(targets, sso.Issuer)
		}
	}
	return targets
}

// pkceVerifier derives the PKCE code verifier of one upstream request from
// the browser's binding secret and the request's state: 43 base64url
// characters (RFC 7636 §4.1), stored nowhere.
func pkceVerifier(binding, state string) string {
	sum := sha256.Sum256([]byte("orgauth sso pkce\x00" + binding + "\x00" + state))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// goUpstream sends the user to the organization's provider: authorization
// code with PKCE S256, a fresh state and nonce. It writes nothing: the
// state is the SSO transaction, sealed (ssostate.go), with the login
// transaction in it, bound to this browser. res brings the cookies set so
// far.
func (s *Service) goUpstream(ctx context.Context, b Browser, res Result, tx domain.LoginTransaction, sso *orgSSO, loginHint string) (Result, error) {
	now := s.now()
	// One binding secret per browser, like the CSRF token: a second tab's
	// sign-in keeps the first one's working.
	binding := b.Cookies.SSOBinding
	if len(binding) != 43 {
		binding, _ = domain.NewSecret()
	}
	nonce, _ := domain.NewSecret()
	stx := domain.SSOTransaction{
		State: domain.NewID(), OrganizationID: tx.OrganizationID, ClientID: tx.ClientID,
		Nonce: nonce, BindingHash: domain.HashSecret(binding), CreatedAt: now, ExpiresAt: tx.ExpiresAt.Truncate(time.Millisecond), // as sealed
		Issuer: sso.Issuer, RedirectURI: domain.SSORedirectURI(s.cfg.Issuer, tx.OrganizationID),
	}
	state, err := s.seal(stx, tx)
	if errors.Is(err, errStateTooLong) {
		s.log.InfoContext(ctx, "authorization request too long to send upstream", "event", "sso_state_too_long",
			"request_id", b.RequestID, "client_id", tx.ClientID, "org_id", tx.OrganizationID)
		res.Outcome = s.errorResponse(ctx, b, tx.RedirectURI, tx.State, tx.ResponseMode,
			&authzError{"invalid_request", "the authorization request is too long to send to the organization's identity provider"})
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("seal SSO state: %w", err)
	}
	// The application's re-authentication goes upstream with the request;
	// the callback checks the provider honoured it (reauth.go).
	target, err := s.upstream.AuthCodeURL(ctx, sso.SSO, stx.RedirectURI, state, stx.Nonce, pkceVerifier(binding, stx.State), loginHint,
		tx.Prompt, tx.MaxAge)
	if err != nil {
		return res, s.upstreamUnavailable(ctx, b, tx.ClientID, err)
	}
	res.setCookie(SSOBindingCookie, binding, max(1, int(stx.ExpiresAt.Sub(now)/time.Second)))
	s.log.InfoContext(ctx, "sign-in sent upstream", "event", "sso_started", "request_id", b.RequestID,
		"client_id", tx.ClientID, "org_id", tx.OrganizationID, "upstream", sso.Issuer)
	res.Outcome = Upstream{URL: target}
	return res, nil
}

func (s *Service) upstreamUnavailable(ctx context.Context, b Browser, clientID string, err error) *Refusal {
	s.log.WarnContext(ctx, "organization identity provider unavailable", "event", "sso_upstream_unavailable",
		"request_id", b.RequestID, "client_id", clientID, "error", err.Error())
	return &Refusal{Status: 502, Title: "Sign-in service unavailable", Reason: "upstream unavailable",
		Message: "Your organization's sign-in service did not answer. Try again in a moment; if it keeps failing, tell your organization's administrator."}
}

// providerVerifiedEmail marks user's email verified after a sign-in through
// the organization's provider: the callback admits only an identity whose
// provider asserted email_verified for an address in the organization's
// domains, and links it only to the user of that address (emails never
// change). Tokens and /userinfo say email_verified from then on.
func (s *Service) providerVerifiedEmail(ctx context.Context, user domain.User, now time.Time) (domain.User, error) {
	if user.EmailVerified {
		return user, nil
	}
	u, err := s.store.UpdateUser(ctx, user.ID, func(u domain.User) (domain.User, error) {
		u.EmailVerified, u.UpdatedAt = true, now
		return u, nil
	})
	if err != nil {
		return user, fmt.Errorf("mark email verified: %w", err)
	}
	return u, nil
}

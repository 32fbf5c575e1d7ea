package signin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"orgauth/pkg/domain"
)

// consentStore is what the consent step reads and writes.
type consentStore interface {
	GetConsent(ctx context.Context, userID, clientID string) (domain.Consent, error)
	PutConsent(ctx context.Context, c domain.Consent) (domain.Consent, error)
	GetAPI(ctx context.Context, audience string) (domain.API, error)
}

// stackClient reports whether app is part of the stack itself: the
// developer console, whose users are never asked to consent.
func (s *Service) stackClient(app domain.Application) bool {
	return domain.IsConsole(app.ClientID)
}

// consentToAsk decides the consent step of a signed-in user: the grants
// (as domain.ConsentScopes lists them) the consent page must ask for, or
// none when the user goes straight on to the code.
//
//   - The stack's own clients (stack) and the application's creator are
//     never asked: there is nobody else to trust.
//   - prompt=consent asks for everything requested (OpenID Connect Core
//     §3.1.2.1: "The Authorization Server SHOULD prompt the End-User for
//     consent before returning information to the Client").
//   - Otherwise, what the user's stored consent (have, nil when none) does
//     not cover: the first sign-in asks for all, a new scope asks again.
func consentToAsk(app domain.Application, stack bool, user domain.User, prompt string, requested []string, have *domain.Consent) []string {
	switch {
	case stack || (app.CreatedBy != "" && app.CreatedBy == user.ID):
		return nil
	case prompt == "consent" || have == nil:
		return domain.MergeScopes(requested)
	}
	return have.Missing(requested)
}

// signedIn continues a sign-in whose user is known, from a live session
// or a login just completed: straight to the code when the user need not
// consent; otherwise the consent page, or with prompt=none the
// consent_required error (OpenID Connect Core §3.1.2.6). No code is
// issued before the user approves.
func (s *Service) signedIn(ctx context.Context, b Browser, app domain.Application, g grant, prompt string, sess domain.Session, user domain.User, now time.Time) (Result, error) {
	requested := domain.ConsentScopes(g.audience, g.scopes)
	var have *domain.Consent
	stack := s.stackClient(app)
	if !stack && app.CreatedBy != user.ID {
		c, err := s.store.GetConsent(ctx, user.ID, app.ClientID)
		switch {
		case err == nil:
			have = &c
		case !errors.Is(err, domain.ErrNotFound):
			return Result{}, fmt.Errorf("read consent: %w", err)
		}
	}
	ask := consentToAsk(app, stack, user, prompt, requested, have)
	if len(ask) == 0 {
		return s.issueCode(ctx, b, app, g, sess, user, now)
	}
	if prompt == "none" {
		return Result{Outcome: s.errorResponse(ctx, b, g.redirectURI, g.state, g.responseMode,
			&authzError{"consent_required", "the user has not approved this application's request"})}, nil
	}
	// The consent page's own transaction, bound like the login form's to
	// this browser's CSRF token, and to the user it asks.
	csrf := b.Cookies.CSRF
	if len(csrf) != 43 {
		csrf, _ = domain.NewSecret()
	}
	tx := domain.LoginTransaction{
		ID: domain.NewID(), ClientID: app.ClientID, RedirectURI: g.redirectURI, State: g.state, Nonce: g.nonce,
		CodeChallenge: g.codeChallenge, Scopes: g.scopes, Audience: g.audience, Prompt: prompt, MaxAge: -1,
		ResponseMode: g.responseMode, CSRFHash: domain.HashSecret(csrf), OrganizationID: app.OrganizationID, UserID: user.ID,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.TransactionLifetime),
	}
	if err := s.store.CreateLoginTransaction(ctx, tx); err != nil {
		return Result{}, fmt.Errorf("create consent transaction: %w", err)
	}
	page, err := s.consentPage(ctx, app, user, tx, csrf, requested, ask)
	if err != nil {
		return Result{}, err
	}
	var res Result
	res.setCookie(CSRFCookie, csrf, 0)
	res.Outcome = page
	s.log.InfoContext(ctx, "consent asked", "event", "consent_asked", "request_id", b.RequestID,
		"client_id", app.ClientID, "user_id", user.ID, "scopes", strings.Join(ask, ","))
	return res, nil
}

// consentPage is the page that asks the user: the application, who created
// it and when, the organization, and each API and scope in plain words.
func (s *Service) consentPage(ctx context.Context, app domain.Application, user domain.User, tx domain.LoginTransaction, csrf string, requested, ask []string) (Page, error) {
	f := &ConsentForm{AppName: app.Name, AppDescription: app.Description, Transaction: tx.ID, CSRFToken: csrf,
		UserEmail: user.Email, CreatedAt: app.CreatedAt.UTC().Format("2 January 2006"), Again: len(ask) < len(requested)}
	if org, err := s.store.GetOrganization(ctx, app.OrganizationID); err == nil {
		f.Organization = org.Name
	} else if !errors.Is(err, domain.ErrNotFound) {
		return Page{}, fmt.Errorf("read organization: %w", err)
	}
	if creator, err := s.store.GetUser(ctx, app.CreatedBy); err == nil {
		f.CreatedBy = creator.Name
		if creator.Email != "" && creator.Email != creator.Name {
			f.CreatedBy = strings.TrimSpace(creator.Name + " <" + creator.Email + ">")
		}
	} else if !errors.Is(err, domain.ErrNotFound) {
		return Page{}, fmt.Errorf("read application creator: %w", err)
	}
	you := ConsentGroup{Name: "About you"}
	api := ConsentGroup{Name: tx.Audience, Audience: tx.Audience}
	reg, err := s.store.GetAPI(ctx, tx.Audience)
	switch {
	case err == nil:
		api.Name = reg.Name
	case !errors.Is(err, domain.ErrNotFound):
		return Page{}, fmt.Errorf("read API: %w", err)
	}
	for _, sc := range tx.Scopes {
		grant := domain.ConsentScope(tx.Audience, sc)
		item := ConsentItem{Name: sc, New: slices.Contains(ask, grant)}
		if words, ok := domain.OpenIDScopeWords(sc); ok {
			item.Description = words
			you.Scopes = append(you.Scopes, item)
			continue
		}
		item.Description = "Use the permission “" + sc + "” of this API."
		if d, ok := reg.Scope(sc); ok {
			item.Description = d.Description
		}
		api.Scopes = append(api.Scopes, item)
	}
	if len(you.Scopes) > 0 {
		f.Groups = append(f.Groups, you)
	}
	f.Groups = append(f.Groups, api)
	return Page{Status: 200, Title: "Allow access?", Consent: f, FormTargets: []string{tx.RedirectURI}}, nil
}

// ConsentValues are the consent form's fields, as posted to /consent.
type ConsentValues struct {
	Transaction string
	CSRFToken   string
	// Decision is "approve" or "deny": the button the user pressed.
	Decision string
}

// ConsentPost is what POST /consent brings: the form, and the request's
// Origin header ("" when absent).
type ConsentPost struct {
	Origin  string
	Form    ConsentValues
	Browser Browser
}

// Consent is the user's answer on the consent page. Approving remembers
// the consent (per user and application, for the scopes asked) and sends
// the user on with a code; denying sends access_denied (RFC 6749
// §4.1.2.1). The page's transaction is used once, from this server's
// page, in the browser and by the signed-in user it was shown to.
func (s *Service) Consent(ctx context.Context, in ConsentPost) (Result, error) {
	now := s.now()
	// Only this server's own page posts the consent form: a missing
	// Origin is refused too.
	if in.Origin != s.origin {
		return Result{}, refuse(403, "Consent refused", "The consent form was sent from another site.")
	}
	if d := in.Form.Decision; d != "approve" && d != "deny" {
		return Result{}, refuse(400, "Invalid request", "The consent form could not be read.")
	}
	tx, _, err := s.loginTransaction(ctx, Login{Origin: in.Origin, Browser: in.Browser,
		Form: LoginValues{Transaction: in.Form.Transaction, CSRFToken: in.Form.CSRFToken}}, now)
	if err != nil {
		return Result{}, err
	}
	if tx.UserID == "" {
		return Result{}, errExpired("not a consent transaction")
	}
	sess, user, err := s.currentSession(ctx, in.Browser.Cookies.Session, now)
	if err != nil {
		return Result{}, err
	}
	if sess == nil || sess.UserID != tx.UserID || sess.OrganizationID != tx.OrganizationID {
		s.log.WarnContext(ctx, "consent refused: not the signed-in user", "event", "consent_refused", "reason", "session",
			"request_id", in.Browser.RequestID, "client_id", tx.ClientID)
		return Result{}, &Refusal{Status: 403, Title: "Consent refused", Reason: "session",
			Message: "You are no longer signed in as the person this page asked. Go back to the application and sign in again."}
	}
	// Single use: of concurrent posts of one transaction, one gets it.
	if _, err := s.store.ConsumeLoginTransaction(ctx, tx.ID, now); errors.Is(err, domain.ErrNotFound) {
		return Result{}, errExpired("transaction used")
	} else if err != nil {
		return Result{}, err
	}
	app, err := s.store.GetApplication(ctx, tx.ClientID)
	if errors.Is(err, domain.ErrNotFound) || (err == nil && app.OrganizationID != tx.OrganizationID) {
		return Result{}, errAppGone()
	}
	if err != nil {
		return Result{}, err
	}
	if in.Form.Decision == "deny" {
		s.log.InfoContext(ctx, "consent denied", "event", "consent_denied", "request_id", in.Browser.RequestID,
			"client_id", app.ClientID, "user_id", user.ID, "source_ip", in.Browser.SourceIP)
		return Result{Outcome: s.errorResponse(ctx, in.Browser, tx.RedirectURI, tx.State, tx.ResponseMode,
			&authzError{"access_denied", "the user denied the application's request"})}, nil
	}
	scopes := domain.ConsentScopes(tx.Audience, tx.Scopes)
	if _, err := s.store.PutConsent(ctx, domain.Consent{UserID: user.ID, ClientID: app.ClientID,
		OrganizationID: app.OrganizationID, Scopes: scopes, GrantedAt: now, UpdatedAt: now}); err != nil {
		return Result{}, fmt.Errorf("store consent: %w", err)
	}
	s.log.InfoContext(ctx, "consent granted", "event", "consent_granted", "request_id", in.Browser.RequestID,
		"client_id", app.ClientID, "user_id", user.ID, "source_ip", in.Browser.SourceIP, "scopes", strings.Join(scopes, ","))
	return s.issueCode(ctx, in.Browser, app, txGrant(tx), *sess, user, now)
}

// UnreadableConsent is the refusal of a consent form that cannot be read.
func UnreadableConsent() *Refusal {
	return refuse(400, "Invalid request", "The consent form could not be read.")
}

// ConsentForm is the consent page's model.
type ConsentForm struct {
	AppName        string
	AppDescription string
	// CreatedBy is the application's creator, "" when they are gone.
	CreatedBy    string
	CreatedAt    string // a date, in words
	Organization string
	UserEmail    string // who is signed in, and asked
	Groups       []ConsentGroup
	// Again is set when the user approved part of the request before: the
	// new items are marked.
	Again       bool
	Transaction string
	CSRFToken   string
}

// ConsentGroup is what the application asks of one API, or about the user
// (the OpenID Connect scopes; Audience "").
type ConsentGroup struct {
	Name     string
	Audience string
	Scopes   []ConsentItem
}

// ConsentItem is one scope in plain words.
type ConsentItem struct {
	Name        string
	Description string
	New         bool // not approved before
}

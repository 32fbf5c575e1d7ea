package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"

	"orgauth/pkg/domain"
	"orgauth/pkg/ops"
	"orgauth/pkg/wiring"
)

// The demo single-page application: a browser app on loopback that signs
// the demo user in with authorization code + PKCE.
const (
	spaOrigin   = "http://127.0.0.1:8080"
	spaCallback = spaOrigin + "/callback"
)

// A fixed PKCE pair for the printed demo link: demoChallenge is
// BASE64URL(SHA256(demoVerifier)), RFC 7636 §4.2. Real clients make a new
// verifier per request.
const (
	demoVerifier  = "orgauth-local-demo-code-verifier-0123456789"
	demoChallenge = "Jk3V0TxzOfiOLZ9BKzV_0h2x-rG_gGKHZHzojM9fxhU"
)

// spaClient is local.json's "spa": a public client has no secret.
type spaClient struct {
	ClientID    string `json:"client_id"`
	RedirectURI string `json:"redirect_uri"`
}

// ensureSPA creates the demo SPA unless local.json names one that still
// exists, so that a local.json from before the SPA existed gains one.
func ensureSPA(ctx context.Context, app *wiring.Stage, lf *localFile) error {
	if lf.SPA.ClientID != "" {
		a, err := app.Store.GetApplication(ctx, lf.SPA.ClientID)
		if err == nil && a.Type == domain.ClientSPA && a.OrganizationID == lf.OrganizationID {
			lf.SPA.RedirectURI = spaCallback
			return nil
		}
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			return err
		}
	}
	// The demo user creates it, as a member would, and as orgauthctl apps
	// create does.
	spa, _, err := ops.New(app.Store, app.Now).CreateApplication(ctx, ops.NewApplication{
		OrganizationID: lf.OrganizationID, Creator: lf.User.Email, Name: "Demo SPA", Description: "Seeded by make run",
		Type: domain.ClientSPA, CallbackURLs: []string{spaCallback}, AllowedOrigins: []string{spaOrigin}, LogoutURLs: []string{spaOrigin + "/"},
		Scopes: []string{"read:demo"},
	})
	if err != nil {
		return fmt.Errorf("seed the demo SPA: %w", err)
	}
	lf.SPA = spaClient{ClientID: spa.ClientID, RedirectURI: spaCallback}
	return nil
}

// printSPA tells how to sign in through the browser.
func printSPA(w io.Writer, issuer string, lf localFile) {
	q := url.Values{
		"response_type": {"code"}, "client_id": {lf.SPA.ClientID}, "redirect_uri": {lf.SPA.RedirectURI},
		"scope": {"openid profile email"}, "state": {"demo"},
		"code_challenge": {demoChallenge}, "code_challenge_method": {"S256"},
	}
	fmt.Fprintf(w, `Sign in as the demo user through the demo SPA (client %s): open

  %s/authorize?%s

and you land on %s with a code (nothing listens there; copy it from the
address bar). Its PKCE code_verifier is %s.

`, lf.SPA.ClientID, issuer, q.Encode(), lf.SPA.RedirectURI, demoVerifier)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"orgauth/pkg/domain"
	"orgauth/pkg/wiring"
)

// consoleClient is local.json's "console": the developer console's SPA
// application, whose client id the console handler serves in config.json.
type consoleClient struct {
	ClientID    string `json:"client_id"`
	URL         string `json:"url"`
	RedirectURI string `json:"redirect_uri"`
}

// ensureConsole makes the developer console an SPA application of the demo
// organization, registered for this run's issuer: its addresses follow the
// port, so an existing one is updated when the port changed.
func ensureConsole(ctx context.Context, app *wiring.Stage, lf *localFile) error {
	issuer := app.Cfg.URL("") // the origin, without the issuer's trailing slash
	callbacks, origins, logouts := []string{issuer + "/console/callback"}, []string{issuer}, []string{issuer + "/console/"}
	lf.Console.URL, lf.Console.RedirectURI = issuer+"/console/", callbacks[0]
	if lf.Console.ClientID != "" {
		a, err := app.Store.GetApplication(ctx, lf.Console.ClientID)
		switch {
		case err == nil && a.Type == domain.ClientSPA && a.OrganizationID == lf.OrganizationID:
			if slices.Equal(a.CallbackURLs, callbacks) && slices.Equal(a.AllowedOrigins, origins) && slices.Equal(a.LogoutURLs, logouts) {
				return nil
			}
			_, err = app.Store.UpdateApplication(ctx, a.ClientID, func(cur domain.Application) (domain.Application, error) {
				cur.CallbackURLs, cur.AllowedOrigins, cur.LogoutURLs, cur.UpdatedAt = callbacks, origins, logouts, app.Now().UTC()
				return cur, nil
			})
			return err
		case err != nil && !errors.Is(err, domain.ErrNotFound):
			return err
		}
	}
	now := app.Now().UTC()
	c := domain.Application{
		ClientID: domain.NewID(), OrganizationID: lf.OrganizationID, Name: "Developer console",
		Description: "orgauth's own console, seeded by make run", Type: domain.ClientSPA,
		CallbackURLs: callbacks, AllowedOrigins: origins, LogoutURLs: logouts,
		CreatedBy: "orgauth-local", CreatedAt: now, UpdatedAt: now,
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("seed the console: %w", err)
	}
	if err := app.Store.CreateApplication(ctx, c); err != nil {
		return fmt.Errorf("seed the console: %w", err)
	}
	lf.Console.ClientID = c.ClientID
	return nil
}

// printConsole tells where the console is.
func printConsole(w io.Writer, lf localFile) {
	fmt.Fprintf(w, "Developer console (client %s): open %s and sign in as %s\n\n", lf.Console.ClientID, lf.Console.URL, lf.User.Email)
}

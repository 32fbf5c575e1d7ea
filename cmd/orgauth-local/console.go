package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"orgauth/pkg/domain"
	"orgauth/pkg/platform/config"
	"orgauth/pkg/wiring"
)

// consoleClient is local.json's "console": the developer console's client,
// which the stack defines (domain.ConsoleClientID), and where it lives.
type consoleClient struct {
	ClientID    string `json:"client_id"`
	URL         string `json:"url"`
	RedirectURI string `json:"redirect_uri"`
}

// ensureConsole describes the console of this run's issuer. A console that
// an earlier make run seeded as an application of the demo organization is
// deleted: the stack defines it now.
func ensureConsole(ctx context.Context, app *wiring.Stage, lf *localFile) error {
	if old := lf.Console.ClientID; old != "" && !domain.IsConsole(old) {
		a, err := app.Store.GetApplication(ctx, old)
		switch {
		case err == nil && a.OrganizationID == lf.OrganizationID && a.CreatedBy == "orgauth-local":
			if err := app.Store.DeleteApplication(ctx, old); err != nil && !errors.Is(err, domain.ErrNotFound) {
				return fmt.Errorf("delete the old console application: %w", err)
			}
		case err != nil && !errors.Is(err, domain.ErrNotFound):
			return err
		}
	}
	c := domain.ConsoleApplication(app.Cfg.Issuer)
	lf.Console = consoleClient{ClientID: c.ClientID, URL: config.URL(app.Cfg.Issuer, "/console/"), RedirectURI: c.CallbackURLs[0]}
	return nil
}

// printConsole tells where the console is.
func printConsole(w io.Writer, lf localFile) {
	fmt.Fprintf(w, "Developer console (client %s): open %s and sign in as %s\n\n", lf.Console.ClientID, lf.Console.URL, lf.User.Email)
}

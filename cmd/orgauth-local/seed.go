package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/ops"
	"orgauth/pkg/password"
	"orgauth/pkg/wiring"
)

// localFile is .orgauth/local.json: what a developer or a test needs to call
// the local stack.
type localFile struct {
	Issuer             string        `json:"issuer"`
	Audience           string        `json:"audience"`
	ManagementAudience string        `json:"management_audience"`
	OrganizationID     string        `json:"organization_id"`
	M2M                clientCred    `json:"m2m"`
	User               userCred      `json:"user"`
	SPA                spaClient     `json:"spa"`
	Console            consoleClient `json:"console"`
	// Where the local stack keeps its data, for orgauthctl.
	Table            string `json:"table"`
	DynamoDBEndpoint string `json:"dynamodb_endpoint,omitempty"`
	KMSEndpoint      string `json:"kms_endpoint,omitempty"`
	SigningKeyIDs    string `json:"signing_key_ids"`
	SSOKeyID         string `json:"sso_key_id,omitempty"`
}

type userCred struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type clientCred struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// seed makes sure the demo organization and its M2M application exist and
// that local.json describes them. It reuses what an earlier run created (the
// secret is only known from local.json, since the table keeps its hash).
func seed(ctx context.Context, app *wiring.Stage, path string) (localFile, error) {
	var lf localFile
	// Every start: register the stage's AUDIENCES that are not registered
	// yet (no scopes); idempotent.
	if _, err := ops.New(app.Store, app.Now).BootstrapAPIs(ctx, app.Cfg.Audiences); err != nil {
		return lf, fmt.Errorf("register AUDIENCES: %w", err)
	}
	if err := ensureDemoAPI(ctx, app); err != nil {
		return lf, fmt.Errorf("register the demo API's scopes: %w", err)
	}
	if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &lf) == nil {
		if ok, err := stillValid(ctx, app, lf); err != nil {
			return lf, err
		} else if ok {
			if err := ensureSPA(ctx, app, &lf); err != nil {
				return lf, err
			}
			if err := ensureConsole(ctx, app, &lf); err != nil {
				return lf, err
			}
			lf = describe(app, lf)
			return lf, writeLocalFile(path, lf)
		}
	}

	now := app.Now().UTC()
	org := domain.Organization{ID: domain.NewID(), Name: "Demo Organization", Plan: domain.PlanEnterpriseLarge, CreatedAt: now, UpdatedAt: now}
	if err := app.Store.CreateOrganization(ctx, org); err != nil {
		return lf, err
	}
	pw := password.Generate()
	admin := ops.New(app.Store, app.Now)
	user, err := admin.CreateUser(ctx, org.ID, demoEmail(org.ID), "Demo User", domain.RoleAdmin, pw, ops.EmailVerified)
	if err != nil {
		return lf, err
	}
	// The demo user creates the M2M client, as a member would: its tokens
	// carry what their role may grant.
	m2m, secret, err := admin.CreateApplication(ctx, ops.NewApplication{
		OrganizationID: org.ID, Creator: user.ID, Name: "Demo M2M client", Description: "Seeded by make run",
		Type: domain.ClientM2M, Scopes: []string{"read:demo", "write:demo"},
	})
	if err != nil {
		return lf, fmt.Errorf("seed the demo M2M client: %w", err)
	}
	lf = localFile{OrganizationID: org.ID, M2M: clientCred{ClientID: m2m.ClientID, ClientSecret: secret}, User: userCred{Email: demoEmail(org.ID), Password: pw}}
	if err := ensureSPA(ctx, app, &lf); err != nil {
		return lf, err
	}
	if err := ensureConsole(ctx, app, &lf); err != nil {
		return lf, err
	}
	lf = describe(app, lf)
	return lf, writeLocalFile(path, lf)
}

// demoEmail is unique per seeding, since e-mail addresses are unique across
// a table that may outlive a local.json.
func demoEmail(orgID string) string { return "demo+" + orgID[:8] + "@example.com" }

// describe fills in what the running stack is: it may change between runs.
func describe(app *wiring.Stage, lf localFile) localFile {
	lf.Issuer, lf.Audience, lf.ManagementAudience = app.Cfg.Issuer, app.Cfg.Audiences[0], app.Cfg.ManagementAudience
	lf.Table, lf.DynamoDBEndpoint, lf.KMSEndpoint = app.Cfg.Table, app.Cfg.DynamoDBEndpoint, app.Cfg.KMSEndpoint
	lf.SigningKeyIDs = strings.Join(app.Cfg.SigningKeyIDs, ",")
	lf.SSOKeyID = app.Cfg.SSOKeyID
	return lf
}

func stillValid(ctx context.Context, app *wiring.Stage, lf localFile) (bool, error) {
	if _, err := app.Store.GetOrganization(ctx, lf.OrganizationID); errors.Is(err, domain.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	a, err := app.Store.GetApplication(ctx, lf.M2M.ClientID)
	if errors.Is(err, domain.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if !a.SecretMatches(lf.M2M.ClientSecret, time.Now()) {
		return false, nil
	}
	u, err := app.Store.GetUserByEmail(ctx, lf.User.Email)
	if errors.Is(err, domain.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	// A demo from before applications had creators is made again.
	return !u.Disabled && a.CreatedBy == u.ID && password.Verify(u.PasswordHash, lf.User.Password), nil
}

func writeLocalFile(path string, lf localFile) error {
	b, err := json.MarshalIndent(lf, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func printWelcome(w io.Writer, issuer string, lf localFile, path string) {
	fmt.Fprintf(w, `
orgauth is serving on %[1]s

  discovery  %[1]s/.well-known/openid-configuration
  JWKS       %[1]s/.well-known/jwks.json
  demo       organization %[2]s (plan enterprise_large), credentials in %[3]s

Get an M2M access token:

  curl --request POST --url '%[1]s/oauth/token' \
    --header 'content-type: application/x-www-form-urlencoded' \
    --data 'grant_type=client_credentials' --data 'client_id=%[4]s' \
    --data 'client_secret=%[5]s' \
    --data 'audience=%[6]s'

Ctrl-C stops the server and the emulators; data survives until make clean.
Operate it with orgauthctl (reads %[3]s): go run ./cmd/orgauthctl users list --org %[2]s
`, issuer, lf.OrganizationID, path, lf.M2M.ClientID, lf.M2M.ClientSecret, lf.Audience, lf.User.Email, lf.User.Password)
}

// The demo API's scopes: the first of AUDIENCES (registered by
// BootstrapAPIs) defines read:demo, which every member may hold, and
// write:demo, for admins.
var demoScopes = []domain.APIScope{
	{Name: "read:demo", Description: "Read the demo API's data", Roles: []domain.Role{domain.RoleAdmin, domain.RoleMember}},
	{Name: "write:demo", Description: "Change the demo API's data", Roles: []domain.Role{domain.RoleAdmin}},
}

// ensureDemoAPI adds the demo scopes to the first API of AUDIENCES, unless
// it defines them already (an operator's own definitions are kept).
func ensureDemoAPI(ctx context.Context, app *wiring.Stage) error {
	if len(app.Cfg.Audiences) == 0 {
		return nil
	}
	api, err := app.Store.GetAPI(ctx, app.Cfg.Audiences[0])
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(demoScopes, func(s domain.APIScope) bool { return !api.Has(s.Name) }) {
		return nil
	}
	_, err = app.Store.UpdateAPI(ctx, app.Cfg.Audiences[0], func(api domain.API) (domain.API, error) {
		for _, s := range demoScopes {
			if !api.Has(s.Name) {
				api.Scopes = append(api.Scopes, s)
			}
		}
		api.UpdatedAt = app.Now().UTC()
		return api, nil
	})
	return err
}

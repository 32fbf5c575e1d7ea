package testenv

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/jwt"
	"orgauth/pkg/keys/kmskeys"
	"orgauth/pkg/platform/awsenv"
	"orgauth/pkg/platform/config"
	"orgauth/pkg/storage/dynamo"
	"orgauth/pkg/testkit/emulator"
	"orgauth/pkg/wiring"
)

// Stack is the emulators plus a wired App with a seeded M2M client.
type Stack struct {
	App          *wiring.App
	Env          map[string]string // the environment a function would get
	OrgID        string
	OwnerID      string // the user who created the seeded M2M application
	ClientID     string
	ClientSecret string
	Audience     string
}

// StartStack starts dynalite and local-kms, creates the table and a signing
// key of keySpec, seeds an Enterprise Large organization with one M2M
// application, and returns the wired App. Everything stops with the test.
func StartStack(t testing.TB, keySpec string) *Stack {
	t.Helper()
	ctx := context.Background()
	ddb := emulator.StartForTest(t, emulator.StartDynalite)
	kmsp := emulator.StartForTest(t, emulator.StartKMS)
	env := map[string]string{
		"ISSUER":            "https://auth.example.com",
		"TABLE_NAME":        "orgauth-test",
		"AUDIENCES":         "https://api.example.com",
		"DYNAMODB_ENDPOINT": ddb.Endpoint,
		"KMS_ENDPOINT":      kmsp.Endpoint,
		"AWS_REGION":        "us-east-1",
		"CONSOLE_CLIENT_ID": "console-test",
	}
	boot := config.Config{Region: "us-east-1", DynamoDBEndpoint: ddb.Endpoint, KMSEndpoint: kmsp.Endpoint}
	awsCfg, err := awsenv.Load(ctx, boot)
	if err != nil {
		t.Fatal(err)
	}
	db, kmsClient := wiring.Clients(awsCfg, boot)
	keyID, err := kmskeys.EnsureKey(ctx, kmsClient, "alias/orgauth-test", keySpec)
	if err != nil {
		t.Fatal(err)
	}
	env["SIGNING_KEY_IDS"] = keyID
	ssoKey, err := kmskeys.EnsureKey(ctx, kmsClient, "alias/orgauth-test-sso", kmskeys.SpecSymmetric)
	if err != nil {
		t.Fatal(err)
	}
	env["SSO_KEY_ID"] = ssoKey
	if err := dynamo.CreateTable(ctx, db, env["TABLE_NAME"]); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	app, err := wiring.New(awsCfg, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	org := domain.Organization{ID: domain.NewID(), Name: "Test", Plan: domain.PlanEnterpriseLarge, CreatedAt: now, UpdatedAt: now}
	if err := app.Store.CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	s := &Stack{App: app, Env: env, OrgID: org.ID, Audience: "https://api.example.com"}
	s.OwnerID = s.AddUser(t, org.ID, "owner-"+org.ID+"@example.com")
	secret, hash := domain.NewSecret()
	m2m := domain.Application{ClientID: domain.NewID(), OrganizationID: org.ID, Name: "m2m", Type: domain.ClientM2M,
		Scopes: []string{"read"}, SecretHash: hash, CreatedBy: s.OwnerID, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := app.Store.CreateApplication(ctx, m2m); err != nil {
		t.Fatal(err)
	}
	s.ClientID, s.ClientSecret = m2m.ClientID, secret
	return s
}

// AddOrganization creates another organization on plan.
func (s *Stack) AddOrganization(t testing.TB, plan domain.Plan) string {
	t.Helper()
	now := time.Now().UTC()
	org := domain.Organization{ID: domain.NewID(), Name: "Org " + string(plan), Plan: plan, CreatedAt: now, UpdatedAt: now}
	if err := s.App.Store.CreateOrganization(context.Background(), org); err != nil {
		t.Fatal(err)
	}
	return org.ID
}

// AddUser creates a member of orgID and returns its id.
func (s *Stack) AddUser(t testing.TB, orgID, email string) string {
	t.Helper()
	now := time.Now().UTC()
	u := domain.User{ID: domain.NewID(), OrganizationID: orgID, Email: email, Name: email, Role: domain.RoleMember, CreatedAt: now, UpdatedAt: now}
	if err := s.App.Store.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// UserToken mints a token for a user, as the developer console gets one
// through sign-in, with the signer the token endpoint uses.
func (s *Stack) UserToken(t testing.TB, userID, orgID string, lifetime time.Duration, audience string) string {
	t.Helper()
	raw, _, err := s.App.Issuer.AccessToken(context.Background(), jwt.AccessRequest{
		Subject: userID, ClientID: s.App.Cfg.ConsoleClientID, OrgID: orgID, Audience: audience, Lifetime: lifetime, AuthTime: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

package testenv

import (
	"context"
	"errors"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/jwt"
	"orgauth/pkg/keys/kmskeys"
	"orgauth/pkg/platform/awsenv"
	"orgauth/pkg/platform/config"
	"orgauth/pkg/platform/metrics"
	"orgauth/pkg/storage"
	"orgauth/pkg/storage/dynamo"
	"orgauth/pkg/storage/memory"
	"orgauth/pkg/testkit/emulator"
	"orgauth/pkg/testkit/fakekms"
	"orgauth/pkg/testkit/jwttest"
	"orgauth/pkg/wiring"
	"orgauth/pkg/wiring/applicationsfn"
	"orgauth/pkg/wiring/authorizefn"
	"orgauth/pkg/wiring/callbackfn"
	"orgauth/pkg/wiring/tokenfn"
	"orgauth/pkg/wiring/wellknownfn"
)

// Stack is a stage (on memory, or on the emulators) with a seeded
// Enterprise Large organization and M2M client, and builds each function's
// handler through the same constructor as its Lambda main.
type Stack struct {
	t            testing.TB
	Stage        *wiring.Stage
	DB           *dynamodb.Client  // the emulator's client (StartStack only)
	KMS          *kms.Client       // the emulator's client (StartStack only)
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
	deviceKey, err := kmskeys.EnsureKey(ctx, kmsClient, "alias/orgauth-test-device-cookie", kmskeys.SpecSymmetric)
	if err != nil {
		t.Fatal(err)
	}
	env["DEVICE_COOKIE_KMS_KEY_ID"] = deviceKey
	if err := dynamo.CreateTable(ctx, db, env["TABLE_NAME"]); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	stage, err := wiring.NewAWS(awsCfg, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s := seedStack(t, &stage, env)
	s.DB, s.KMS = db, kmsClient
	return s
}

// NewStack is a stage on memory storage with an in-process RS256 key:
// what handler tests run on, with no emulator.
func NewStack(t testing.TB) *Stack {
	t.Helper()
	env := map[string]string{
		"ISSUER":          "https://auth.example.com",
		"TABLE_NAME":      "orgauth-test",
		"AUDIENCES":       "https://api.example.com",
		"AWS_REGION":      "us-east-1",
		"SIGNING_KEY_IDS": "in-memory",
		"SSO_KEY_ID":      "in-memory-sso",
		// As deployed: the device-cookie key is a data key of this KMS key,
		// kept in the table (pkg/keys/datakey).
		"DEVICE_COOKIE_KMS_KEY_ID": "in-memory-device-cookie",
	}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	stage := wiring.Stage{
		Cfg: cfg, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: time.Now,
		Store: storage.WithConsole(MemoryStore(), cfg.Issuer), Keys: jwttest.NewRSAKeySet(),
		Metrics: metrics.New(io.Discard, "test", nil), KMS: fakekms.New(env["SSO_KEY_ID"], env["DEVICE_COOKIE_KMS_KEY_ID"]),
	}
	return seedStack(t, &stage, env)
}

// MemoryStore is an empty store in memory.
func MemoryStore() storage.Store { return memory.New() }

func seedStack(t testing.TB, app *wiring.Stage, env map[string]string) *Stack {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	org := domain.Organization{ID: domain.NewID(), Name: "Test", Plan: domain.PlanEnterpriseLarge, CreatedAt: now, UpdatedAt: now}
	if err := app.Store.CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	s := &Stack{t: t, Stage: app, Env: env, OrgID: org.ID, Audience: "https://api.example.com"}
	s.OwnerID = s.AddUser(t, org.ID, "owner-"+org.ID+"@example.com")
	// The stage's API, with the scope the seeded application names, held
	// by every role.
	if err := app.Store.CreateAPI(ctx, domain.API{Audience: s.Audience, Name: "Test API", CreatedAt: now, UpdatedAt: now,
		Scopes: []domain.APIScope{
			{Name: "read", Description: "Read test data", Roles: []domain.Role{domain.RoleAdmin, domain.RoleMember}},
			{Name: "write", Description: "Change test data", Roles: []domain.Role{domain.RoleAdmin}},
		}}); err != nil && !errors.Is(err, domain.ErrAlreadyExists) {
		t.Fatal(err)
	}
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
	if err := s.Stage.Store.CreateOrganization(context.Background(), org); err != nil {
		t.Fatal(err)
	}
	return org.ID
}

// AddUser creates a member of orgID and returns its id.
func (s *Stack) AddUser(t testing.TB, orgID, email string) string {
	t.Helper()
	now := time.Now().UTC()
	u := domain.User{ID: domain.NewID(), OrganizationID: orgID, Email: email, Name: email, Role: domain.RoleMember, CreatedAt: now, UpdatedAt: now}
	if err := s.Stage.Store.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// UserToken mints a token for a user, as the developer console gets one
// through sign-in, with the signer the token endpoint uses.
func (s *Stack) UserToken(t testing.TB, userID, orgID string, lifetime time.Duration, audience string) string {
	t.Helper()
	raw, _, err := s.Stage.Issuer().AccessToken(context.Background(), jwt.AccessRequest{
		Subject: userID, ClientID: domain.ConsoleClientID, OrgID: orgID, Audience: audience, Lifetime: lifetime, AuthTime: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// Handler builds a function's handler from the stack's stage through its
// constructor, as the function's main does.
func (s *Stack) Handler(build wiring.Constructor) http.Handler {
	s.t.Helper()
	h, err := build(*s.Stage)
	if err != nil {
		s.t.Fatal(err)
	}
	return h
}

// Token is the token function's handler.
func (s *Stack) Token() http.Handler { return s.Handler(tokenfn.New) }

// WellKnown is the wellknown function's handler.
func (s *Stack) WellKnown() http.Handler { return s.Handler(wellknownfn.New) }

// Applications is the applications function's handler.
func (s *Stack) Applications() http.Handler { return s.Handler(applicationsfn.New) }

// Authorize is the authorize function's handler.
func (s *Stack) Authorize() http.Handler { return s.Handler(authorizefn.New) }

// Callback is the callback function's handler.
func (s *Stack) Callback() http.Handler { return s.Handler(callbackfn.New) }

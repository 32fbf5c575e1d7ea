package testenv

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"orgauth/pkg/platform/awsenv"
	"orgauth/pkg/platform/config"
	"orgauth/pkg/wiring"
)

// App wires an App against the running local server's emulators, table and
// key, so a test can read its data and mint tokens with its signer.
func (l *Local) App(t testing.TB) *wiring.Stage {
	t.Helper()
	ctx := context.Background()
	cfg := config.Config{
		Issuer: l.Issuer, Table: l.File.Table, SigningKeyIDs: strings.Split(l.File.SigningKeyIDs, ","),
		ManagementAudience: l.File.ManagementAudience, SSOKeyID: l.File.SSOKeyID, Region: "us-east-1",
		DynamoDBEndpoint: l.File.DynamoDBEndpoint, KMSEndpoint: l.File.KMSEndpoint,
	}
	awsCfg, err := awsenv.Load(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	app, err := wiring.NewAWS(awsCfg, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return &app
}

// DemoUserToken mints a management-audience token for the demo user through
// the local server's own signer, as the sign-in flow will.
func (l *Local) DemoUserToken(t testing.TB) string {
	t.Helper()
	app := l.App(t)
	u, err := app.Store.GetUserByEmail(context.Background(), l.File.User.Email)
	if err != nil {
		t.Fatal(err)
	}
	s := &Stack{t: t, Stage: app}
	tok := s.UserToken(t, u.ID, u.OrganizationID, 10*time.Minute, l.File.ManagementAudience)
	l.Secret(tok)
	return tok
}

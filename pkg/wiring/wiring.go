// Package wiring builds orgauth's handlers from a Config: the AWS clients,
// the store, the key set and the issuer, once per cold start. The Lambda
// mains and the local server share it, so both run the very same handlers.
//
// It must never be called per request, and never exit the process: errors
// go back to main.
package wiring

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"orgauth/pkg/endpoints/applications"
	"orgauth/pkg/endpoints/authorize"
	"orgauth/pkg/endpoints/console"
	"orgauth/pkg/endpoints/token"
	"orgauth/pkg/endpoints/wellknown"
	"orgauth/pkg/jwt"
	"orgauth/pkg/keys/kmskeys"
	"orgauth/pkg/platform/config"
	"orgauth/pkg/platform/cors"
	"orgauth/pkg/platform/metrics"
	"orgauth/pkg/platform/secretbox"
	"orgauth/pkg/storage"
	"orgauth/pkg/storage/dynamo"
	"orgauth/pkg/upstream"
)

// App holds everything a function needs, built once.
type App struct {
	Cfg    config.Config
	Log    *slog.Logger
	DB     *dynamodb.Client
	KMS    *kms.Client
	Store  *dynamo.Store
	Keys   *kmskeys.KeySet
	Issuer *jwt.Issuer
	Now    func() time.Time
	// Metrics emits CloudWatch EMF lines; nil when METRICS_NAMESPACE is unset.
	Metrics *metrics.Recorder
	// Upstream is the relying party of organizations' own identity
	// providers, with their discovery documents and keys cached.
	Upstream *upstream.Client
}

// New builds the adapters from an AWS configuration. No network call is
// made here: the key set is read on first use, then at most once per
// KEYSET_REFRESH, and each public key is fetched once.
func New(awsCfg aws.Config, cfg config.Config, log *slog.Logger) (*App, error) {
	var rec *metrics.Recorder
	if cfg.MetricsNamespace != "" {
		rec = metrics.New(os.Stdout, cfg.MetricsNamespace, nil)
		awsCfg.APIOptions = append(slices.Clone(awsCfg.APIOptions), rec.AWSMiddleware)
	}
	db, kmsClient := Clients(awsCfg, cfg)
	st := dynamo.New(db, cfg.Table)
	// The key set follows the item that orgauthctl keys rotate writes
	// (infra/KEY-ROTATION.md), re-read at most every KEYSET_REFRESH;
	// SIGNING_KEY_IDS signs until there is one.
	keys, err := kmskeys.NewRotatingKeySet(kmsClient, st, cfg.SigningKeyIDs, kmskeys.RotatingOptions{
		Refresh:        cfg.KeySetRefresh,
		OnRefreshError: func(err error) { log.Warn("signing key set", "error", err.Error()) },
	})
	if err != nil {
		return nil, err
	}
	a := &App{Cfg: cfg, Log: log, DB: db, KMS: kmsClient, Keys: keys, Now: time.Now, Metrics: rec,
		Upstream: upstream.New(upstream.Config{Timeout: cfg.UpstreamTimeout}, nil)}
	a.Store = st
	a.Issuer = jwt.NewIssuer(cfg.Issuer, keys, a.Now, nil)
	return a, nil
}

// LambdaAWS is the AWS configuration of a function: Lambda puts the
// execution role's credentials in the environment for the life of the
// execution environment, so the full configuration chain (shared files, SSO,
// IMDS), which would add megabytes to every bootstrap, is not needed.
func LambdaAWS(cfg config.Config) aws.Config {
	creds := aws.Credentials{}
	if id := os.Getenv("AWS_ACCESS_KEY_ID"); id != "" {
		creds = aws.Credentials{AccessKeyID: id, SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"), SessionToken: os.Getenv("AWS_SESSION_TOKEN"), Source: "Lambda environment"}
	}
	return aws.Config{
		Region:      cfg.Region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return creds, nil }),
	}
}

// Token is the token function's handler.
func (a *App) Token() http.Handler {
	return token.New(a.Store, a.Store, a.Issuer, token.Config{
		Audiences:                  a.Cfg.TokenAudiences(),
		DefaultAccessTokenLifetime: a.Cfg.AccessTokenLifetime,
		OrganizationCacheTTL:       a.Cfg.OrgCacheTTL,
	}, a.Log, a.Now).WithSignIn(token.SignIn{
		Flows: a.Store, Users: a.Store, IDTokens: a.Issuer, Issuer: a.Cfg.Issuer,
		Verifier:             jwt.NewVerifier(a.Cfg.Issuer, a.Keys, a.Now),
		RefreshTokenLifetime: a.Cfg.RefreshLifetime, RefreshIdleTimeout: a.Cfg.RefreshIdleTimeout,
	}).WithThrottle(a.Store, token.ThrottleConfig{}).WithCORS(a.cors()).Routes()
}

// Authorize is the authorize function's handler: /authorize, /login and
// /logout. It sends users of organizations with SSO upstream, without
// being able to decrypt any upstream secret.
func (a *App) Authorize() http.Handler {
	return a.signIn().WithSSO(a.Upstream, nil).Routes()
}

// Callback is the callback function's handler: /callback, where
// organizations' providers return their users. It alone decrypts their
// client secrets (SSO_KEY_ID).
func (a *App) Callback() http.Handler {
	return a.signIn().WithSSO(a.Upstream, secretbox.New(a.KMS, a.Cfg.SSOKeyID)).CallbackRoutes()
}

func (a *App) signIn() *authorize.Handler {
	return authorize.New(a.Store, a.Keys, authorize.Config{
		Issuer:             a.Cfg.Issuer,
		Audiences:          a.Cfg.TokenAudiences(),
		DefaultAudience:    a.Cfg.DefaultAudience(),
		ManagementAudience: a.Cfg.ManagementAudience, ManagementClientID: a.Cfg.ConsoleClientID,
	}, a.Log, a.Now)
}

// WellKnown is the wellknown function's handler.
func (a *App) WellKnown() http.Handler {
	return wellknown.New(wellknown.Config{Issuer: a.Cfg.Issuer, MaxAge: a.Cfg.JWKSMaxAge}, a.Keys, a.Log).WithUserInfo(wellknown.UserInfo{
		Verifier: jwt.NewVerifier(a.Cfg.Issuer, a.Keys, a.Now), Store: a.Store, Audiences: a.Cfg.TokenAudiences(), Now: a.Now,
	}).WithCORS(a.cors()).Routes()
}

// cors is the cross-origin policy: the origins applications allow, from the
// table's origin index, trusted for a minute per warm instance.
func (a *App) cors() *cors.Policy { return cors.New(a.Store, time.Minute, a.Log, a.Now) }

// Handlers maps each SAM function logical id to its handler, for the local
// server, which mounts them on the routes read from template.yaml.
func (a *App) Handlers() map[string]http.Handler {
	return map[string]http.Handler{
		"TokenFunction":        a.Token(),
		"WellKnownFunction":    a.WellKnown(),
		"ApplicationsFunction": a.Applications(),
		"AuthorizeFunction":    a.Authorize(),
		"CallbackFunction":     a.Callback(),
		"ConsoleFunction":      a.Console(),
	}
}

// Clients builds the DynamoDB and KMS clients, pointed at the emulators'
// endpoints when cfg names them.
func Clients(awsCfg aws.Config, cfg config.Config) (*dynamodb.Client, *kms.Client) {
	db := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		if cfg.DynamoDBEndpoint != "" {
			o.BaseEndpoint = aws.String(cfg.DynamoDBEndpoint)
		}
	})
	k := kms.NewFromConfig(awsCfg, func(o *kms.Options) {
		if cfg.KMSEndpoint != "" {
			o.BaseEndpoint = aws.String(cfg.KMSEndpoint)
		}
	})
	return db, k
}

// Applications is the applications function's handler.
func (a *App) Applications() http.Handler {
	verifier := jwt.NewVerifier(a.Cfg.Issuer, a.Keys, a.Now)
	return applications.New(a.Store, verifier, applications.Config{
		Audience:                   a.Cfg.ManagementAudience,
		UserClientID:               a.Cfg.ConsoleClientID,
		DefaultAccessTokenLifetime: a.Cfg.AccessTokenLifetime,
	}, a.Log, a.Now, storage.ErrInvalidCursor).Routes()
}

// Console is the console function's handler: the developer console's
// embedded assets and its config.json. It needs no AWS permission.
func (a *App) Console() http.Handler {
	return console.New(console.Config{
		Issuer: a.Cfg.Issuer, ClientID: a.Cfg.ConsoleClientID, Audience: a.Cfg.ManagementAudience,
	}, a.Log).Routes()
}

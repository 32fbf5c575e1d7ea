package wiring

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"orgauth/pkg/jwt"
	"orgauth/pkg/keys/kmskeys"
	"orgauth/pkg/platform/config"
	"orgauth/pkg/platform/cors"
	"orgauth/pkg/platform/metrics"
	"orgauth/pkg/platform/required"
	"orgauth/pkg/storage"
	"orgauth/pkg/storage/dynamo"
)

// Stage is what every function of a stage shares, built once.
type Stage struct {
	Cfg config.Config
	Log *slog.Logger
	Now func() time.Time
	// Store is the table: DynamoDB when deployed, memory in handler tests.
	Store storage.Store
	// Keys is the signing key set (KMS when deployed).
	Keys jwt.KeySet
	// Metrics writes CloudWatch EMF lines on stdout when METRICS_NAMESPACE
	// is set (every deployed stage sets it).
	Metrics *metrics.Recorder
	// KMS decrypts organizations' upstream client secrets in the callback
	// function (SSO_KEY_ID), through the secret box, and the device-cookie
	// key in the authorize function (DEVICE_COOKIE_KMS_KEY_ID, see
	// devicekey.go).
	KMS SecretsAPI
}

// SecretsAPI is the part of KMS that the SSO secret box and the
// device-cookie key call.
type SecretsAPI interface {
	Encrypt(ctx context.Context, params *kms.EncryptInput, optFns ...func(*kms.Options)) (*kms.EncryptOutput, error)
	Decrypt(ctx context.Context, params *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
	GenerateDataKey(ctx context.Context, params *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
}

// Check refuses a Stage with a missing part.
func (s Stage) Check() error {
	return required.Check("stage", required.Dep{Name: "Log", Value: s.Log}, required.Dep{Name: "Now", Value: s.Now},
		required.Dep{Name: "Store", Value: s.Store}, required.Dep{Name: "Keys", Value: s.Keys},
		required.Dep{Name: "Metrics", Value: s.Metrics})
}

// Issuer mints this stage's access and ID tokens.
func (s Stage) Issuer() *jwt.Issuer { return jwt.NewIssuer(s.Cfg.Issuer, s.Keys, s.Now, nil) }

// Verifier verifies this stage's access tokens.
func (s Stage) Verifier() *jwt.Verifier { return jwt.NewVerifier(s.Cfg.Issuer, s.Keys, s.Now) }

// CORS is the cross-origin policy: the origins applications allow, from
// the table's origin index, trusted for a minute per warm instance.
func (s Stage) CORS() *cors.Policy { return cors.New(s.Store, time.Minute, s.Log, s.Now) }

// NewMetrics is the stage's recorder: EMF lines on out under the stage's
// namespace, or nowhere when cfg names none (local development).
func NewMetrics(cfg config.Config, out io.Writer) *metrics.Recorder {
	if cfg.MetricsNamespace == "" {
		out = io.Discard
	}
	return metrics.New(out, cfg.MetricsNamespace, nil)
}

// NewAWS builds a Stage on DynamoDB and KMS. No network call is made here:
// the key set is read on first use, then at most once per KEYSET_REFRESH,
// and each public key is fetched once. EMF lines go to out (stdout in
// Lambda).
func NewAWS(awsCfg aws.Config, cfg config.Config, log *slog.Logger, out io.Writer) (Stage, error) {
	rec := NewMetrics(cfg, out)
	awsCfg.APIOptions = append(slices.Clone(awsCfg.APIOptions), rec.AWSMiddleware)
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
		return Stage{}, fmt.Errorf("signing key set: %w", err)
	}
	// The developer console is a client of every stage, stored nowhere.
	return Stage{Cfg: cfg, Log: log, Now: time.Now, Store: storage.WithConsole(st, cfg.Issuer), Keys: keys, Metrics: rec, KMS: kmsClient}, nil
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

// Clients builds the DynamoDB and KMS clients, pointed at the emulators'
// endpoints when cfg names them, each call bounded by cfg's AWS deadlines
// (see deadlines.go).
func Clients(awsCfg aws.Config, cfg config.Config) (*dynamodb.Client, *kms.Client) {
	awsCfg = withDeadlines(awsCfg, cfg.AWSDeadlines())
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

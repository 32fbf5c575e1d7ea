package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"orgauth"
	"orgauth/internal/samlocal"
	"orgauth/pkg/keys/kmskeys"
	"orgauth/pkg/platform/awsenv"
	"orgauth/pkg/platform/config"
	"orgauth/pkg/storage/dynamo"
	"orgauth/pkg/testkit/emulator"
	"orgauth/pkg/wiring"
)

// stack is what both `make run` and `make emulators` start: the emulators
// (unless pointed elsewhere), the table, the keys and the demo seed, with
// local.json describing them.
type stack struct {
	issuer    string
	env       map[string]string // the variables config.FromEnv read, as the functions would get them
	app       *wiring.Stage
	demo      localFile
	dataDir   string
	localFile string // the path of local.json
	stops     []func() error
}

func (s *stack) stop() {
	for i := len(s.stops) - 1; i >= 0; i-- {
		_ = s.stops[i]()
	}
}

// startStack starts everything but an API server, for issuer. On error,
// whatever it started is stopped.
func startStack(ctx context.Context, log *slog.Logger, dataDir, issuer string) (_ *stack, err error) {
	st := &stack{issuer: issuer, dataDir: dataDir, localFile: filepath.Join(dataDir, "local.json")}
	defer func() {
		if err != nil {
			st.stop()
		}
	}()
	useAWS := os.Getenv("DYNAMODB_ENDPOINT") == "" && os.Getenv("KMS_ENDPOINT") == "" &&
		(os.Getenv("AWS_PROFILE") != "" || os.Getenv("AWS_ACCESS_KEY_ID") != "")
	env := map[string]string{
		"ISSUER":              issuer,
		"TABLE_NAME":          getenv("TABLE_NAME", "orgauth-local"),
		"AUDIENCES":           getenv("AUDIENCES", "https://api.example.com"),
		"MANAGEMENT_AUDIENCE": getenv("MANAGEMENT_AUDIENCE", "orgauth:management"),
		"DYNAMODB_ENDPOINT":   os.Getenv("DYNAMODB_ENDPOINT"),
		"KMS_ENDPOINT":        os.Getenv("KMS_ENDPOINT"),
		// No CloudFront locally: requests need no origin secret.
		"ORIGIN_VERIFY_SHA256": "",
	}
	st.env = env
	if !useAWS {
		if env["DYNAMODB_ENDPOINT"] == "" {
			p, err := emulator.StartDynaliteOn(ctx, filepath.Join(dataDir, "dynamodb"), preferredPort("DYNALITE_PORT", 8000))
			if err != nil {
				return nil, fmt.Errorf("start dynalite: %w", err)
			}
			st.stops = append(st.stops, p.Stop)
			env["DYNAMODB_ENDPOINT"] = p.Endpoint
			fmt.Fprintf(os.Stderr, "dynalite on %s (data in %s)\n", p.Endpoint, filepath.Join(dataDir, "dynamodb"))
		}
		if env["KMS_ENDPOINT"] == "" {
			p, err := emulator.StartKMSOn(ctx, filepath.Join(dataDir, "kms"), preferredPort("KMS_PORT", 4599))
			if err != nil {
				return nil, fmt.Errorf("start local-kms: %w", err)
			}
			st.stops = append(st.stops, p.Stop)
			env["KMS_ENDPOINT"] = p.Endpoint
			fmt.Fprintf(os.Stderr, "local-kms on %s (data in %s)\n", p.Endpoint, filepath.Join(dataDir, "kms"))
		}
	}

	bootCfg := config.Config{Region: getenv("AWS_REGION", "us-east-1"), DynamoDBEndpoint: env["DYNAMODB_ENDPOINT"], KMSEndpoint: env["KMS_ENDPOINT"]}
	awsCfg, err := awsenv.Load(ctx, bootCfg)
	if err != nil {
		return nil, err
	}
	db, kmsClient := wiring.Clients(awsCfg, bootCfg)
	// The KMS keys: each variable if given, else a local alias, created on
	// first run.
	for _, k := range []struct{ name, alias, spec, what string }{
		{"SIGNING_KEY_IDS", "alias/orgauth-local-signing", getenv("SIGNING_KEY_SPEC", "RSA_2048"), "signing key"},
		// The key of organizations' upstream SSO client secrets.
		{"SSO_KEY_ID", "alias/orgauth-local-sso", kmskeys.SpecSymmetric, "SSO secret key"},
		// The key that wraps the device-cookie key (kept in the table as a
		// ciphertext by the authorize function's first cold start).
		{"DEVICE_COOKIE_KMS_KEY_ID", "alias/orgauth-local-device-cookie", kmskeys.SpecSymmetric, "device cookie key"},
	} {
		id := os.Getenv(k.name)
		if id == "" {
			if id, err = kmskeys.EnsureKey(ctx, kmsClient, k.alias, k.spec); err != nil {
				return nil, fmt.Errorf("%s: %w", k.what, err)
			}
		}
		env[k.name] = id
	}
	if err := dynamo.CreateTable(ctx, db, env["TABLE_NAME"]); err != nil {
		return nil, fmt.Errorf("table %s: %w", env["TABLE_NAME"], err)
	}

	cfg, err := config.FromEnv(func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return os.Getenv(k)
	})
	if err != nil {
		return nil, err
	}
	stage, err := wiring.NewAWS(awsCfg, cfg, log, os.Stdout)
	if err != nil {
		return nil, err
	}
	st.app = &stage
	if st.demo, err = seed(ctx, st.app, st.localFile); err != nil {
		return nil, fmt.Errorf("seed demo: %w", err)
	}
	return st, nil
}

// samEnvFile is the path of the generated --env-vars file for `sam local`.
func (s *stack) samEnvFile() string { return filepath.Join(s.dataDir, "sam-local-env.json") }

// writeSAMEnv writes sam-local-env.json: one section per function of
// template.yaml with every variable it declares, valued from what this stack
// really started.
func (s *stack) writeSAMEnv() error {
	fns, err := samlocal.Functions(orgauth.Template)
	if err != nil {
		return fmt.Errorf("template.yaml: %w", err)
	}
	values := map[string]string{
		// As in a dev stage: EMF metrics on stdout, debug logs.
		"METRICS_NAMESPACE": getenv("METRICS_NAMESPACE", "orgauth/local"),
		"LOG_LEVEL":         getenv("LOG_LEVEL", "debug"),
	}
	for k, v := range s.env {
		values[k] = v
	}
	file, err := samlocal.Generate(fns, values)
	if err != nil {
		return err
	}
	return file.Write(s.samEnvFile())
}

// serveEmulators is `make emulators`: it writes the env file for `sam local`
// and keeps the emulators up until interrupted.
func serveEmulators(ctx context.Context, st *stack) error {
	if err := st.writeSAMEnv(); err != nil {
		return fmt.Errorf("write %s: %w", st.samEnvFile(), err)
	}
	printEmulators(os.Stderr, st)
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "\nstopping")
	return nil
}

func printEmulators(w io.Writer, st *stack) {
	fmt.Fprintf(w, `
The emulators are up for sam local, with the demo of %[1]s:

  DynamoDB   %[2]s (table %[3]s)
  KMS        %[4]s (signing key %[5]s)
  env file   %[6]s (for sam local start-api --env-vars)
  issuer     %[7]s (where make sam-local serves)

In another terminal: make sam-local. Then get an M2M access token:

  curl --request POST --url '%[7]s/oauth/token' \
    --header 'content-type: application/x-www-form-urlencoded' \
    --data 'grant_type=client_credentials' --data 'client_id=%[8]s' \
    --data 'client_secret=%[9]s' \
    --data 'audience=%[10]s'

Ctrl-C stops the emulators; data survives until make clean.
`, st.localFile, st.env["DYNAMODB_ENDPOINT"], st.env["TABLE_NAME"], st.env["KMS_ENDPOINT"], st.env["SIGNING_KEY_IDS"],
		st.samEnvFile(), st.issuer, st.demo.M2M.ClientID, st.demo.M2M.ClientSecret, st.demo.Audience)
}

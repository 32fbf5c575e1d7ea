// Command orgauth-local runs orgauth on one machine: it starts the DynamoDB
// and KMS emulators (unless pointed elsewhere), creates the table and the
// signing key if absent, seeds a demo organization, and serves every Lambda
// handler on one http.ServeMux at the routes read from template.yaml.
//
// Environment: PORT (default 3000), ORGAUTH_DATA_DIR (default .orgauth),
// DYNALITE_PORT (default 8000) and KMS_PORT (default 4599),
// DYNAMODB_ENDPOINT and KMS_ENDPOINT (use those instead of starting
// emulators), TABLE_NAME, SIGNING_KEY_SPEC (RSA_2048 or ECC_NIST_P256),
// AUDIENCES, MANAGEMENT_AUDIENCE. With neither endpoint set and AWS
// credentials in the environment (AWS_PROFILE or AWS_ACCESS_KEY_ID), it uses
// real AWS.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"orgauth"
	"orgauth/pkg/keys/kmskeys"
	"orgauth/pkg/platform/awsenv"
	"orgauth/pkg/platform/config"
	"orgauth/pkg/platform/httpx"
	"orgauth/pkg/platform/routes"
	"orgauth/pkg/storage/dynamo"
	"orgauth/pkg/testkit/emulator"
	"orgauth/pkg/wiring"
	"orgauth/pkg/wiring/functions"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "orgauth-local:", err)
		os.Exit(1)
	}
}

func getenv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := httpx.NewLogger(slog.LevelInfo)

	port := getenv("PORT", "3000")
	dataDir := getenv("ORGAUTH_DATA_DIR", ".orgauth")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	useAWS := os.Getenv("DYNAMODB_ENDPOINT") == "" && os.Getenv("KMS_ENDPOINT") == "" &&
		(os.Getenv("AWS_PROFILE") != "" || os.Getenv("AWS_ACCESS_KEY_ID") != "")

	// Listen first, so a busy port fails before anything starts.
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		return fmt.Errorf("listen on 127.0.0.1:%s: %w (set PORT to use another port)", port, err)
	}
	defer ln.Close()
	issuer := "http://127.0.0.1:" + port

	env := map[string]string{
		"ISSUER":              issuer,
		"TABLE_NAME":          getenv("TABLE_NAME", "orgauth-local"),
		"AUDIENCES":           getenv("AUDIENCES", "https://api.example.com"),
		"MANAGEMENT_AUDIENCE": getenv("MANAGEMENT_AUDIENCE", "orgauth:management"),
		"DYNAMODB_ENDPOINT":   os.Getenv("DYNAMODB_ENDPOINT"),
		"KMS_ENDPOINT":        os.Getenv("KMS_ENDPOINT"),
	}
	if !useAWS {
		if env["DYNAMODB_ENDPOINT"] == "" {
			p, err := emulator.StartDynaliteOn(ctx, filepath.Join(dataDir, "dynamodb"), preferredPort("DYNALITE_PORT", 8000))
			if err != nil {
				return fmt.Errorf("start dynalite: %w", err)
			}
			defer p.Stop()
			env["DYNAMODB_ENDPOINT"] = p.Endpoint
			fmt.Fprintf(os.Stderr, "dynalite on %s (data in %s)\n", p.Endpoint, filepath.Join(dataDir, "dynamodb"))
		}
		if env["KMS_ENDPOINT"] == "" {
			p, err := emulator.StartKMSOn(ctx, filepath.Join(dataDir, "kms"), preferredPort("KMS_PORT", 4599))
			if err != nil {
				return fmt.Errorf("start local-kms: %w", err)
			}
			defer p.Stop()
			env["KMS_ENDPOINT"] = p.Endpoint
			fmt.Fprintf(os.Stderr, "local-kms on %s (data in %s)\n", p.Endpoint, filepath.Join(dataDir, "kms"))
		}
	}

	// The signing key: SIGNING_KEY_IDS if given, else the local alias,
	// created on first run.
	keyIDs := os.Getenv("SIGNING_KEY_IDS")
	bootCfg := config.Config{Region: getenv("AWS_REGION", "us-east-1"), DynamoDBEndpoint: env["DYNAMODB_ENDPOINT"], KMSEndpoint: env["KMS_ENDPOINT"]}
	awsCfg, err := awsenv.Load(ctx, bootCfg)
	if err != nil {
		return err
	}
	db, kmsClient := wiring.Clients(awsCfg, bootCfg)
	if keyIDs == "" {
		id, err := kmskeys.EnsureKey(ctx, kmsClient, "alias/orgauth-local-signing", getenv("SIGNING_KEY_SPEC", "RSA_2048"))
		if err != nil {
			return fmt.Errorf("signing key: %w", err)
		}
		keyIDs = id
	}
	env["SIGNING_KEY_IDS"] = keyIDs
	// The key of organizations' upstream SSO client secrets.
	ssoKey := os.Getenv("SSO_KEY_ID")
	if ssoKey == "" {
		id, err := kmskeys.EnsureKey(ctx, kmsClient, "alias/orgauth-local-sso", kmskeys.SpecSymmetric)
		if err != nil {
			return fmt.Errorf("SSO secret key: %w", err)
		}
		ssoKey = id
	}
	env["SSO_KEY_ID"] = ssoKey
	if err := dynamo.CreateTable(ctx, db, env["TABLE_NAME"]); err != nil {
		return fmt.Errorf("table %s: %w", env["TABLE_NAME"], err)
	}

	cfg, err := config.FromEnv(func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return os.Getenv(k)
	})
	if err != nil {
		return err
	}
	stage, err := wiring.NewAWS(awsCfg, cfg, log, os.Stdout)
	if err != nil {
		return err
	}
	app := &stage
	demo, err := seed(ctx, app, filepath.Join(dataDir, "local.json"))
	if err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}

	// The console function reads CONSOLE_CLIENT_ID; here it is the seeded one.
	app.Cfg.ConsoleClientID = demo.Console.ClientID
	handlers, err := wiring.Build(stage, functions.All)
	if err != nil {
		return err
	}
	mux, err := mount(handlers)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: httpx.Middleware(log, nil, mux), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	printWelcome(os.Stderr, issuer, demo, filepath.Join(dataDir, "local.json"))
	printSPA(os.Stderr, issuer, demo)
	printConsole(os.Stderr, demo)

	select {
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr, "\nstopping")
	case err := <-errc:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// preferredPort is the port an emulator should use: the variable's value, or
// def. Fixed ports let `sam local` (infra/sam-local-env.json) find the
// emulators; when def is taken, a free port is used and announced instead.
func preferredPort(name string, def int) int {
	if v := os.Getenv(name); v != "" {
		if p, err := strconv.Atoi(v); err == nil && p >= 0 && p < 65536 {
			return p
		}
		fmt.Fprintf(os.Stderr, "%s=%q is not a port; using %d\n", name, v, def)
	}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", def))
	if err != nil {
		fmt.Fprintf(os.Stderr, "port %d is taken; %s uses a free port instead\n", def, name)
		return 0
	}
	l.Close()
	return def
}

// mount puts each function's handler on the routes template.yaml gives it,
// so the local server and API Gateway route the same way.
func mount(handlers map[string]http.Handler) (*http.ServeMux, error) {
	rs, err := routes.Parse(orgauth.Template)
	if err != nil {
		return nil, fmt.Errorf("read routes from template.yaml: %w", err)
	}
	mux := http.NewServeMux()
	for _, r := range rs {
		h, ok := handlers[r.Function]
		if !ok {
			return nil, fmt.Errorf("template.yaml routes %s %s to %s, which has no handler", r.Method, r.Path, r.Function)
		}
		mux.Handle(r.Pattern(), h)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	})
	return mux, nil
}

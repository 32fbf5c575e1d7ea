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
//
// With -emulators (make emulators) it starts the same things but no API
// server, and also writes sam-local-env.json, the --env-vars file that
// `sam local start-api` needs, for the issuer http://127.0.0.1:SAM_PORT
// (default 3001).
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"orgauth"
	"orgauth/pkg/platform/httpx"
	"orgauth/pkg/platform/routes"
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
	emulatorsOnly := flag.Bool("emulators", false, "start only what the Lambda functions need (emulators, table, keys, demo) for sam local, "+
		"and write sam-local-env.json beside local.json; no API server (SAM_PORT, default 3001, is the port sam local serves on)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := httpx.NewLogger(slog.LevelInfo)

	dataDir := getenv("ORGAUTH_DATA_DIR", ".orgauth")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	if *emulatorsOnly {
		port := getenv("SAM_PORT", "3001")
		if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
			return fmt.Errorf("SAM_PORT=%q is not a port", port)
		}
		st, err := startStack(ctx, log, dataDir, "http://127.0.0.1:"+port)
		if err != nil {
			return err
		}
		defer st.stop()
		return serveEmulators(ctx, st)
	}

	issuer, port, useTLS, err := localIssuer(os.Getenv("ISSUER"), getenv("PORT", "3000"))
	if err != nil {
		return err
	}
	// Listen first, so a busy port fails before anything starts.
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		return fmt.Errorf("listen on 127.0.0.1:%s: %w (set PORT, or the ISSUER's port, to use another port)", port, err)
	}
	defer ln.Close()
	if useTLS {
		tlsCfg, caPath, err := localTLS(dataDir, time.Now())
		if err != nil {
			return fmt.Errorf("local TLS certificate: %w", err)
		}
		ln = tls.NewListener(ln, tlsCfg)
		fmt.Fprintf(os.Stderr, "https with the local CA %s (trust it once: see README, \"https for local development\")\n", caPath)
	}
	st, err := startStack(ctx, log, dataDir, issuer)
	if err != nil {
		return err
	}
	defer st.stop()
	app, demo := st.app, st.demo

	handlers, err := wiring.Build(*app, functions.All)
	if err != nil {
		return err
	}
	mux, err := mount(handlers)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: httpx.HSTS(issuer, httpx.Middleware(log, nil, mux)), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	base := app.Cfg.URL("") // the issuer without its trailing slash, for endpoint URLs
	printWelcome(os.Stderr, base, demo, st.localFile)
	printSPA(os.Stderr, base, demo)
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

// localIssuer is make run's issuer: ISSUER when set (http or https on
// 127.0.0.1 or localhost, kept exactly as written, trailing slash and all)
// with the port it names, else http://127.0.0.1:PORT. useTLS says to serve
// https on that port.
func localIssuer(issuerEnv, port string) (issuer, listenPort string, useTLS bool, err error) {
	if issuerEnv == "" {
		return "http://127.0.0.1:" + port, port, false, nil
	}
	u, err := url.Parse(issuerEnv)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") ||
		u.Port() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", "", false, fmt.Errorf("ISSUER=%q: want http(s)://127.0.0.1:PORT or http(s)://localhost:PORT, optionally with a trailing slash, such as https://127.0.0.1:3443/", issuerEnv)
	}
	return issuerEnv, u.Port(), u.Scheme == "https", nil
}

// preferredPort is the port an emulator should use: the variable's value, or
// def. Fixed ports keep the endpoints the same from one run to the next;
// when def is taken, a free port is used and announced instead.
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

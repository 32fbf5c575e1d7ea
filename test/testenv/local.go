// Package testenv starts the real local stack — the orgauth-local binary,
// built from this checkout, with its emulators — for system tests, and stops
// it when the test ends.
package testenv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"orgauth/pkg/testkit/emulator"
)

// LocalFile mirrors .orgauth/local.json.
type LocalFile struct {
	Issuer             string `json:"issuer"`
	Audience           string `json:"audience"`
	ManagementAudience string `json:"management_audience"`
	OrganizationID     string `json:"organization_id"`
	Table              string `json:"table"`
	DynamoDBEndpoint   string `json:"dynamodb_endpoint"`
	KMSEndpoint        string `json:"kms_endpoint"`
	SigningKeyIDs      string `json:"signing_key_ids"`
	SSOKeyID           string `json:"sso_key_id"`
	User               struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	} `json:"user"`
	M2M struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	} `json:"m2m"`
	SPA struct {
		ClientID    string `json:"client_id"`
		RedirectURI string `json:"redirect_uri"`
	} `json:"spa"`
	Console struct {
		ClientID    string `json:"client_id"`
		URL         string `json:"url"`
		RedirectURI string `json:"redirect_uri"`
	} `json:"console"`
}

// Local is a running orgauth-local.
type Local struct {
	Dir     string // its data directory
	Port    int
	Issuer  string
	File    LocalFile
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
	Output  *syncBuffer // everything the server printed
	// Logs is what it wrote to stdout: its structured JSON log lines. The
	// banner with the demo credentials goes to stderr.
	Logs *syncBuffer

	mu      sync.Mutex
	secrets []string
}

// Secret registers values — secrets, passwords, tokens, right or wrong —
// that must never appear in the server's logs, in any encoding a request
// carries them in (raw, URL-encoded, base64); the check runs when the test
// ends.
func (l *Local) Secret(values ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, v := range values {
		if v != "" { // an empty value (a cleared cookie) carries nothing
			l.secrets = append(l.secrets, Encodings(v)...)
		}
	}
}

// SecretBasic registers the Authorization: Basic credentials of a client
// (RFC 6749 §2.3.1: each part form-encoded, then base64) and both parts.
func (l *Local) SecretBasic(clientID, secret string) {
	l.Secret(secret)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, pair := range []string{clientID + ":" + secret, url.QueryEscape(clientID) + ":" + url.QueryEscape(secret)} {
		l.secrets = append(l.secrets, base64.StdEncoding.EncodeToString([]byte(pair)))
	}
}

// Encodings are the forms a secret value takes on the wire or in a log: as
// is, form- and path-encoded, JSON-escaped, and base64 (standard and URL).
func Encodings(v string) []string {
	j, _ := json.Marshal(v)
	out := []string{v, url.QueryEscape(v), url.PathEscape(v), strings.Trim(string(j), `"`),
		base64.StdEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v))}
	slices.Sort(out)
	return slices.Compact(out)
}

// minSecretLen is the shortest registered value searched for: shorter ones
// would match ordinary log text. Every credential a test sends is longer.
const minSecretLen = 6

// checkLogs fails the test if any registered secret reached the logs.
func (l *Local) checkLogs(t testing.TB) {
	l.mu.Lock()
	defer l.mu.Unlock()
	logs := l.Logs.String()
	if !strings.Contains(logs, `"msg":"request"`) {
		t.Errorf("the server wrote no request log lines; the secrecy check would be empty")
	}
	for _, s := range l.secrets {
		if len(s) < minSecretLen {
			t.Errorf("a registered secret is shorter than %d characters and cannot be searched for; send a longer one", minSecretLen)
			continue
		}
		if strings.Contains(logs, s) {
			t.Errorf("the server logs contain a secret (%.6s…)", s)
		}
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/orgauth-local once per test process.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := emulator.RepoRoot()
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "orgauth-local-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "orgauth-local")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/orgauth-local")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build orgauth-local: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Require skips the test when the emulators are not installed, unless the
// run requires them (make test).
func Require(t testing.TB) {
	t.Helper()
	for _, rel := range []string{".bin/kms-local", "infra/node_modules/.bin/dynalite"} {
		root, err := emulator.RepoRoot()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(root, rel)); err != nil {
			if emulator.Required() {
				t.Fatalf("%s is missing: run make deps", rel)
			}
			t.Skipf("%s is missing: run make deps", rel)
		}
	}
}

// StartLocal runs orgauth-local on a free port with its data in dir (a new
// temporary directory when dir is ""), waits until it has written
// local.json and answers, and stops it when the test ends.
func StartLocal(t testing.TB, dir string, env ...string) *Local {
	t.Helper()
	port, err := emulator.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return StartLocalOn(t, dir, port, env...)
}

// StartLocalOn is StartLocal on a given port: a test that shares a data
// directory and emulators with `orgauth-local -emulators` serves on the
// port whose issuer that one was started for.
func StartLocalOn(t testing.TB, dir string, port int, env ...string) *Local {
	t.Helper()
	l := startProcess(t, dir, port, nil, append([]string{fmt.Sprintf("PORT=%d", port)}, env...))
	t.Cleanup(func() {
		l.Stop(t)
		l.checkLogs(t)
	})
	l.waitUntil(t, func() bool {
		return l.readLocalFile() && l.ready()
	})
	l.SecretBasic(l.File.M2M.ClientID, l.File.M2M.ClientSecret)
	l.Secret(l.File.User.Password)
	return l
}

// StartEmulators runs `orgauth-local -emulators`, what make emulators runs,
// for sam local on port samPort, with its data in a new temporary
// directory; it waits until sam-local-env.json is written and stops the
// emulators when the test ends.
func StartEmulators(t testing.TB, samPort int) *Local {
	t.Helper()
	l := startProcess(t, "", samPort, []string{"-emulators"}, []string{fmt.Sprintf("SAM_PORT=%d", samPort), "PORT="})
	t.Cleanup(func() { l.Stop(t) })
	l.waitUntil(t, func() bool {
		_, err := os.Stat(l.SAMEnvFile())
		return err == nil && l.readLocalFile()
	})
	return l
}

// SAMEnvFile is the path of the --env-vars file that -emulators writes.
func (l *Local) SAMEnvFile() string { return filepath.Join(l.Dir, "sam-local-env.json") }

// startProcess starts orgauth-local with args, its own emulators on free
// ports and its data in dir, for the issuer on port; env comes last and wins.
func startProcess(t testing.TB, dir string, port int, args, env []string) *Local {
	t.Helper()
	Require(t)
	bin := Binary(t)
	if dir == "" {
		dir = t.TempDir()
	}
	root, _ := emulator.RepoRoot()
	l := &Local{Dir: dir, Port: port, Issuer: fmt.Sprintf("http://127.0.0.1:%d", port), done: make(chan struct{}), Output: &syncBuffer{}, Logs: &syncBuffer{}}
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "ISSUER="); ok && v != "" {
			l.Issuer = v // as configured: https, or with a trailing slash
		}
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = root // emulator binaries are found from the repository root
	cmd.Env = append(os.Environ(), append([]string{
		"ORGAUTH_DATA_DIR=" + dir,
		"DYNAMODB_ENDPOINT=", "KMS_ENDPOINT=", "AWS_PROFILE=", "AWS_ACCESS_KEY_ID=", "DYNALITE_PORT=0", "KMS_PORT=0",
	}, env...)...)
	cmd.Stdout, cmd.Stderr = io.MultiWriter(l.Output, l.Logs), l.Output
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l.cmd = cmd
	go func() { l.waitErr = cmd.Wait(); close(l.done) }()
	return l
}

// Base is the issuer without its trailing slash, to append endpoint paths to.
func (l *Local) Base() string { return strings.TrimSuffix(l.Issuer, "/") }

// TLSDir holds the local CA and server certificate of an https issuer.
func (l *Local) TLSDir() string { return filepath.Join(l.Dir, "tls") }

// HTTPClient calls the server, trusting the local CA of an https issuer.
func (l *Local) HTTPClient() *http.Client {
	if !strings.HasPrefix(l.Issuer, "https:") {
		return http.DefaultClient
	}
	pool := x509.NewCertPool()
	if b, err := os.ReadFile(filepath.Join(l.TLSDir(), "ca.pem")); err == nil {
		pool.AppendCertsFromPEM(b)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func (l *Local) ready() bool {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, l.Base()+"/.well-known/jwks.json", nil)
	if err != nil {
		return false
	}
	resp, err := l.HTTPClient().Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

// readLocalFile reads local.json, and reports whether it is there and
// describes this issuer.
func (l *Local) readLocalFile() bool {
	b, err := os.ReadFile(filepath.Join(l.Dir, "local.json"))
	return err == nil && json.Unmarshal(b, &l.File) == nil && l.File.Issuer == l.Issuer
}

// waitUntil polls ready until it holds, failing the test if the process
// exits first or is not ready within a minute.
func (l *Local) waitUntil(t testing.TB, ready func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ready() {
		select {
		case <-l.done:
			t.Fatalf("orgauth-local exited: %v\n%s", l.waitErr, l.Output.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("orgauth-local not ready in 60s\n%s", l.Output.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Interrupt sends SIGINT, as Ctrl-C would, and waits for the exit.
func (l *Local) Interrupt(t testing.TB) error {
	t.Helper()
	_ = l.cmd.Process.Signal(os.Interrupt)
	select {
	case <-l.done:
		return l.waitErr
	case <-time.After(20 * time.Second):
		return errors.New("orgauth-local did not stop within 20s of SIGINT")
	}
}

// Stop ends orgauth-local and anything left in its process group.
func (l *Local) Stop(t testing.TB) {
	select {
	case <-l.done:
	default:
		if err := l.Interrupt(t); err != nil {
			_ = syscall.Kill(-l.cmd.Process.Pid, syscall.SIGKILL)
			<-l.done
		}
	}
	_ = syscall.Kill(-l.cmd.Process.Pid, syscall.SIGKILL) // stragglers, if any
}

type syncBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}

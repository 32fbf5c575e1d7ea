package tokenfn_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"orgauth/pkg/domain"
	"orgauth/pkg/jwt"
	"orgauth/pkg/platform/config"
	"orgauth/pkg/storage"
	"orgauth/pkg/wiring"
	"orgauth/pkg/wiring/tokenfn"
	"orgauth/test/testenv"
)

// functionTimeout is the Timeout of every function in template.yaml: an
// answer later than this is, in Lambda, no answer at all.
const functionTimeout = 10 * time.Second

// frozen is a dependency that accepts connections and never answers, as
// DynamoDB or KMS look when their host is stopped mid-request.
func frozen(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never read, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

// serveWithin serves one request on h in the background and fails the test
// if no answer comes within the function timeout.
func serveWithin(t *testing.T, h http.Handler, c testenv.Call) (*http.Response, map[string]any, time.Duration) {
	t.Helper()
	type result struct {
		resp *http.Response
		body map[string]any
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		resp, body := testenv.Do(t, h, c)
		done <- result{resp, body}
	}()
	select {
	case r := <-done:
		return r.resp, r.body, time.Since(start)
	case <-time.After(functionTimeout):
		t.Fatalf("%s %s: no answer within the function timeout (%s)", c.Method, c.Path, functionTimeout)
		return nil, nil, 0
	}
}

func want503(t *testing.T, what string, resp *http.Response, body map[string]any) {
	t.Helper()
	if resp.StatusCode != http.StatusServiceUnavailable || body["error"] != "temporarily_unavailable" {
		t.Fatalf("%s: %d %v, want 503 temporarily_unavailable", what, resp.StatusCode, body)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Errorf("%s: 503 without Retry-After", what)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: 503 without Cache-Control: no-store", what)
	}
}

// A token function whose DynamoDB and KMS accept connections but never
// answer, built as its Lambda main builds it (config.FromEnv,
// wiring.NewAWS, tokenfn.New) with the default deadlines, answers 503 with
// Retry-After within the function timeout instead of hanging.
func TestFrozenDependenciesAnswer503WithinTheFunctionTimeout(t *testing.T) {
	endpoint := frozen(t)
	env := map[string]string{
		"ISSUER": "https://auth.example.com", "TABLE_NAME": "orgauth-test", "SIGNING_KEY_IDS": "alias/orgauth-test",
		"AUDIENCES": "https://api.example.com", "AWS_REGION": "us-east-1",
		"DYNAMODB_ENDPOINT": endpoint, "KMS_ENDPOINT": endpoint,
	}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	awsCfg := aws.Config{Region: cfg.Region, Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, nil
	})}
	st, err := wiring.NewAWS(awsCfg, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	h, err := tokenfn.New(st)
	if err != nil {
		t.Fatal(err)
	}
	resp, body, took := serveWithin(t, h, testenv.Call{Path: "/oauth/token", Form: url.Values{
		"grant_type": {"client_credentials"}, "client_id": {"some-client"}, "client_secret": {"some-secret"},
		"audience": {"https://api.example.com"}}})
	want503(t, "token endpoint on a frozen DynamoDB", resp, body)
	t.Logf("answered %d after %s", resp.StatusCode, took.Round(time.Millisecond))
}

// down is a store whose reads of applications fail as DynamoDB's do when it
// throttles or refuses connections.
type down struct {
	storage.Store
	err error
}

func (d down) GetApplication(context.Context, string) (domain.Application, error) {
	return domain.Application{}, d.err
}

// failingKeys is a key set whose active key cannot sign: KMS throttles.
type failingKeys struct{ jwt.KeySet }

func (k failingKeys) Active(ctx context.Context) (jwt.Key, error) {
	key, err := k.KeySet.Active(ctx)
	return failingKey{key}, err
}

type failingKey struct{ jwt.Key }

func (failingKey) SignDigest(context.Context, []byte) ([]byte, error) {
	return nil, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
}

// A store that is down or throttling makes the token, revocation and
// introspection endpoints answer 503 temporarily_unavailable with
// Retry-After, not 500.
func TestStoreUnavailableIs503(t *testing.T) {
	for name, err := range map[string]error{
		"throttled": &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException", Message: "slow down"},
		"refused":   &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)},
		"deadline":  context.DeadlineExceeded,
	} {
		st := testenv.NewStack(t)
		st.Stage.Store = down{Store: st.Stage.Store, err: err}
		h := st.Handler(tokenfn.New)
		for _, path := range []string{"/oauth/token", "/oauth/revoke", "/oauth/introspect"} {
			resp, body := testenv.Do(t, h, testenv.Call{Path: path, Form: url.Values{
				"grant_type": {"client_credentials"}, "client_id": {st.ClientID}, "client_secret": {st.ClientSecret},
				"audience": {st.Audience}, "token": {"abc"}}})
			want503(t, name+" "+path, resp, body)
		}
	}
}

// KMS throttling the signature makes the token endpoint answer 503.
func TestSignerUnavailableIs503(t *testing.T) {
	st := testenv.NewStack(t)
	st.Stage.Keys = failingKeys{st.Stage.Keys}
	resp, body := testenv.Do(t, st.Handler(tokenfn.New), testenv.Call{Path: "/oauth/token", Form: url.Values{
		"grant_type": {"client_credentials"}, "client_id": {st.ClientID}, "client_secret": {st.ClientSecret}, "audience": {st.Audience}}})
	want503(t, "token endpoint with KMS throttling", resp, body)
	b, _ := json.Marshal(body)
	if len(b) > 200 {
		t.Errorf("body too chatty: %s", b)
	}
}

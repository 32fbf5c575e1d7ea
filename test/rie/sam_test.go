package rie

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"orgauth"
	"orgauth/internal/samlocal"
	"orgauth/pkg/domain"
	"orgauth/pkg/jwt"
	"orgauth/pkg/testkit/emulator"
	"orgauth/test/testenv"
)

// TestSAMLocalReplay is the closest this machine comes to `sam local
// start-api`: make emulators' stack, each function's bootstrap under
// aws-lambda-rie with the environment sam local would build from the
// generated env file, and every sample event answered the same as by make
// run's server on the same emulators, data and issuer.
func TestSAMLocalReplay(t *testing.T) {
	root, err := emulator.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	port, err := emulator.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	em := testenv.StartEmulators(t, port)
	file, err := samlocal.Read(em.SAMEnvFile())
	if err != nil {
		t.Fatal(err)
	}
	// make run's server, on the emulators, data and issuer of make emulators.
	local := testenv.StartLocalOn(t, em.Dir, port, "DYNAMODB_ENDPOINT="+em.File.DynamoDBEndpoint, "KMS_ENDPOINT="+em.File.KMSEndpoint)
	if local.File.M2M != em.File.M2M || local.File.Console != em.File.Console {
		t.Fatalf("make run's server seeded another demo: %+v, make emulators %+v", local.File, em.File)
	}

	app := local.App(t)
	ctx := context.Background()
	user, err := app.Store.GetUserByEmail(ctx, em.File.User.Email)
	if err != nil {
		t.Fatal(err)
	}
	mgmt, _, err := app.Issuer().AccessToken(ctx, jwt.AccessRequest{Subject: user.ID, ClientID: em.File.Console.ClientID,
		OrgID: user.OrganizationID, Audience: em.File.ManagementAudience, Scopes: []string{"openid", "email"}, Lifetime: 10 * time.Minute, AuthTime: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	local.Secret(mgmt)
	st := &testenv.Stack{Stage: app, OwnerID: user.ID}
	spa := st.AddSPA(t, user.OrganizationID, "https://spa.example.com/callback", "https://spa.example.com/")
	// An event that changes its application gets a fresh one on each side,
	// so both sides start from the same state.
	fresh := func() string {
		now := time.Now().UTC()
		_, hash := domain.NewSecret()
		a := domain.Application{ClientID: domain.NewID(), OrganizationID: user.OrganizationID, Name: "Invoice export", Type: domain.ClientM2M,
			Scopes: []string{"read:demo"}, SecretHash: hash, CreatedBy: user.ID, CreatedAt: now, UpdatedAt: now, Version: 1}
		if err := app.Store.CreateApplication(ctx, a); err != nil {
			t.Fatal(err)
		}
		return a.ClientID
	}
	changes := map[string]bool{"applications-update": true, "applications-rotate-secret": true, "applications-delete": true}
	replacer := func(event string) *strings.Replacer {
		client := em.File.M2M.ClientID
		if changes[event] {
			client = fresh()
		}
		return strings.NewReplacer("SPA_CLIENT_ID", spa, "CLIENT_ID", client, "CLIENT_SECRET", em.File.M2M.ClientSecret, "ACCESS_TOKEN", mgmt)
	}

	fns, err := samlocal.Functions(orgauth.Template)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, "events", "*.json"))
	if len(files) == 0 {
		t.Fatal("no sample events")
	}
	replayed := 0
	for _, f := range fns {
		var mine []string
		for _, path := range files {
			if strings.HasPrefix(filepath.Base(path), f.Package+"-") {
				mine = append(mine, path)
			}
		}
		if len(mine) == 0 {
			continue
		}
		env := samlocal.Resolve(f, file, os.LookupEnv)
		p, err := emulator.StartRIE(ctx, buildBootstrap(t, root, f.Package), containerEnv(env))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range mine {
			name := strings.TrimSuffix(filepath.Base(path), ".json")
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Run(name, func(t *testing.T) {
				lambda := fromLambda(t, invoke(t, p.Endpoint, []byte(replacer(name).Replace(string(raw)))))
				server := fromServer(t, local.Issuer, []byte(replacer(name).Replace(string(raw))))
				if lambda.status != server.status {
					t.Fatalf("status: sam local %d, make run %d\n%s\n%s", lambda.status, server.status, lambda.body, server.body)
				}
				t.Logf("both answered %d", lambda.status)
				if !slices.Equal(lambda.headers, server.headers) {
					t.Errorf("headers:\nsam local %q\nmake run  %q", lambda.headers, server.headers)
				}
				if lambda.body != server.body {
					t.Errorf("body:\nsam local %.600s\nmake run  %.600s", lambda.body, server.body)
				}
			})
			replayed++
		}
		p.Stop()
	}
	if replayed != len(files) {
		t.Fatalf("replayed %d of %d events: an event's name must start with its function's package", replayed, len(files))
	}
}

// containerEnv is env as the only environment of the function: a container
// inherits nothing from the host, so every other variable of this process is
// blanked (the emulator passes its own environment on to the bootstrap).
func containerEnv(env map[string]string) []string {
	out := samlocal.Environ(env)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := env[k]; !ok {
			out = append(out, k+"=")
		}
	}
	return out
}

// answer is a response reduced to what must be the same on both paths:
// values that differ by construction (ids, secrets, tokens, times) are
// masked.
type answer struct {
	status  int
	headers []string // "name: value", lower-case names, sorted
	body    string
}

var (
	opaque = regexp.MustCompile(`[A-Za-z0-9_\-]{16,}=*`)
	stamp  = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)|\b1\d{9}\b`)
	// Set by the server or the gateway, not by the handler.
	transport = []string{"date", "content-length", "x-request-id"}
)

func mask(s string) string { return stamp.ReplaceAllString(opaque.ReplaceAllString(s, "…"), "⏱") }

func newAnswer(status int, h http.Header, body []byte) answer {
	a := answer{status: status, body: mask(string(body))}
	for name, vs := range h {
		name = strings.ToLower(name)
		if slices.Contains(transport, name) {
			continue
		}
		for _, v := range vs {
			a.headers = append(a.headers, name+": "+mask(v))
		}
	}
	slices.Sort(a.headers)
	return a
}

func fromLambda(t *testing.T, r events.APIGatewayV2HTTPResponse) answer {
	t.Helper()
	h := http.Header{}
	for k, v := range r.Headers {
		h.Add(k, v)
	}
	for k, vs := range r.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range r.Cookies {
		h.Add("Set-Cookie", c)
	}
	body := []byte(r.Body)
	if r.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(r.Body); err != nil {
			t.Fatal(err)
		}
	}
	return newAnswer(r.StatusCode, h, body)
}

// fromServer sends the request an event describes to the server at base.
func fromServer(t *testing.T, base string, event []byte) answer {
	t.Helper()
	var e events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(event, &e); err != nil {
		t.Fatal(err)
	}
	body := []byte(e.Body)
	if e.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(e.Body); err != nil {
			t.Fatal(err)
		}
	}
	u := base + e.RawPath
	if e.RawQueryString != "" {
		u += "?" + e.RawQueryString
	}
	req, err := http.NewRequest(e.RequestContext.HTTP.Method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range e.Headers {
		req.Header.Set(k, v)
	}
	if len(e.Cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(e.Cookies, "; "))
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return newAnswer(resp.StatusCode, resp.Header, b)
}

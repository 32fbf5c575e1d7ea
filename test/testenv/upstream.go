package testenv

import (
	"bufio"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"orgauth/pkg/testkit/emulator"
)

// UpstreamAccount is a user of the upstream provider.
type UpstreamAccount struct {
	Sub, Email, Name string
	EmailVerified    bool
}

// UpstreamClient is a relying party registered at the upstream provider, a
// confidential web client of the authorization code flow. http redirect URIs
// on 127.0.0.1 are accepted. It is registered with client_secret_basic, and
// oidc-provider takes its secret as client_secret_post too.
type UpstreamClient struct {
	ID, Secret   string
	RedirectURIs []string
}

// UpstreamOP is a running upstream OpenID provider: npm oidc-provider, run
// by infra/js/upstream-op.mjs on 127.0.0.1, standing in for an
// organization's own SSO. It requires PKCE (S256) of every client, signs ID
// tokens with RS256 and puts the email and profile claims in them; its login
// and consent pages are oidc-provider's development interactions, which
// SignIn and Deny drive over HTTP.
type UpstreamOP struct {
	Issuer string

	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
	output  *syncBuffer // what the provider printed (stderr, and stdout after the issuer line)
}

// upstreamOPPackage is where infra's npm install puts oidc-provider.
const upstreamOPPackage = "infra/node_modules/oidc-provider/package.json"

// upstreamOPMissing says what keeps the upstream provider from starting, or
// "" when node and the package are there.
func upstreamOPMissing() string {
	root, err := emulator.RepoRoot()
	if err != nil {
		return err.Error()
	}
	if _, err := os.Stat(filepath.Join(root, upstreamOPPackage)); err != nil {
		return "infra/node_modules/oidc-provider is missing: run make deps"
	}
	if _, err := exec.LookPath("node"); err != nil {
		return "node is not on PATH: the upstream OpenID provider needs it"
	}
	return ""
}

// RequireUpstreamOP skips the test when node or npm oidc-provider is not
// installed, unless the run requires the emulators (make test), when it
// fails it instead.
func RequireUpstreamOP(t testing.TB) {
	t.Helper()
	if msg := upstreamOPMissing(); msg != "" {
		if emulator.Required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// StartUpstreamOP starts the upstream provider with these clients and
// accounts on a free port of 127.0.0.1, and stops it when the test ends. A
// missing node or oidc-provider fails the test (see RequireUpstreamOP to
// skip instead).
func StartUpstreamOP(t testing.TB, clients []UpstreamClient, accounts []UpstreamAccount) *UpstreamOP {
	t.Helper()
	return startUpstreamOP(t, false, clients, accounts)
}

// StartHostileUpstreamOP starts a provider that another organization
// controls: it ignores prompt and max_age, answering from its own session,
// and puts its session's auth_time in every ID token (upstream-op.mjs).
func StartHostileUpstreamOP(t testing.TB, clients []UpstreamClient, accounts []UpstreamAccount) *UpstreamOP {
	t.Helper()
	return startUpstreamOP(t, true, clients, accounts)
}

// TokenRequests counts the token requests the provider received.
func (op *UpstreamOP) TokenRequests() int {
	return strings.Count(op.output.String(), "upstream-op: token request")
}

func startUpstreamOP(t testing.TB, hostile bool, clients []UpstreamClient, accounts []UpstreamAccount) *UpstreamOP {
	t.Helper()
	if msg := upstreamOPMissing(); msg != "" {
		t.Fatal(msg)
	}
	root, err := emulator.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	type client struct {
		ClientID     string   `json:"client_id"`
		ClientSecret string   `json:"client_secret"`
		RedirectURIs []string `json:"redirect_uris"`
	}
	type account struct {
		Sub           string `json:"sub"`
		Email         string `json:"email,omitempty"`
		EmailVerified bool   `json:"email_verified"`
		Name          string `json:"name,omitempty"`
	}
	cfg := struct {
		Port     int       `json:"port"`
		Clients  []client  `json:"clients"`
		Accounts []account `json:"accounts"`
		Hostile  bool      `json:"hostile"`
	}{Clients: []client{}, Accounts: []account{}, Hostile: hostile}
	for _, c := range clients {
		cfg.Clients = append(cfg.Clients, client{c.ID, c.Secret, c.RedirectURIs})
	}
	for _, a := range accounts {
		cfg.Accounts = append(cfg.Accounts, account{a.Sub, a.Email, a.EmailVerified, a.Name})
	}
	config, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}

	// The issuer line comes through a pipe of our own, so that Wait never
	// waits on a reader.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	op := &UpstreamOP{done: make(chan struct{}), output: &syncBuffer{}}
	cmd := exec.Command("node", filepath.Join(root, "infra", "js", "upstream-op.mjs"))
	cmd.Dir = filepath.Join(root, "infra")
	cmd.Stdin = strings.NewReader(string(config))
	cmd.Stdout, cmd.Stderr = pw, op.output
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		t.Fatalf("start the upstream OpenID provider: %v", err)
	}
	pw.Close()
	op.cmd = cmd
	go func() { op.waitErr = cmd.Wait(); close(op.done) }()
	t.Cleanup(op.stop)

	first := make(chan string, 1)
	go func() {
		defer pr.Close()
		r := bufio.NewReader(pr)
		line, _ := r.ReadString('\n')
		first <- line
		_, _ = io.Copy(op.output, r)
	}()
	var line string
	select {
	case line = <-first:
	case <-time.After(30 * time.Second):
		t.Fatalf("the upstream OpenID provider did not start in 30s\n%s", op.output.String())
	}
	var ready struct {
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal([]byte(line), &ready); err != nil || !strings.HasPrefix(ready.Issuer, "http://127.0.0.1:") {
		<-wait(op.done, 5*time.Second)
		t.Fatalf("the upstream OpenID provider did not start (first line %q)\n%s", line, op.output.String())
	}
	op.Issuer = ready.Issuer
	return op
}

func wait(done chan struct{}, d time.Duration) <-chan struct{} {
	c := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(d):
		}
		close(c)
	}()
	return c
}

// Output is what the provider printed to stderr: its warnings and errors.
func (op *UpstreamOP) Output() string { return op.output.String() }

// stop ends the provider's process group: SIGTERM, then SIGKILL after 5 s.
func (op *UpstreamOP) stop() {
	pgid := op.cmd.Process.Pid
	select {
	case <-op.done:
	default:
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-op.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-op.done
		}
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // stragglers, if any
}

var (
	upstreamForm    = regexp.MustCompile(`<form[^>]*\baction="([^"]*)"[^>]*\bmethod="post"`)
	upstreamPrompt  = regexp.MustCompile(`<input type="hidden" name="prompt" value="([^"]*)"`)
	upstreamCancel  = regexp.MustCompile(`<a href="([^"]*)">\[ Cancel \]</a>`)
	upstreamMaxHops = 20
)

// SignIn plays the user's browser at the provider: from authURL (the
// provider's authorization URL the relying party redirected to), with browser
// (a cookie jar, not following redirects), it follows the provider's own
// redirects, signs in as sub on the login page, grants consent if asked, and
// returns the redirect back to the relying party (code and state, or an
// error) without requesting it. With a session and grant left in the jar
// from an earlier SignIn, the provider may answer without any page.
func (op *UpstreamOP) SignIn(t testing.TB, browser *http.Client, authURL, sub string) *url.URL {
	t.Helper()
	return op.drive(t, browser, authURL, func(page *upstreamPage) *http.Request {
		switch page.prompt {
		case "login":
			return page.post(t, url.Values{"prompt": {"login"}, "login": {sub}, "password": {"any"}})
		case "consent":
			return page.post(t, url.Values{"prompt": {"consent"}})
		}
		t.Fatalf("upstream OP: unknown interaction %q at %s:\n%s", page.prompt, page.url, page.body)
		return nil
	})
}

// Deny does what SignIn does, but the user cancels at the first page the
// provider shows, so that it redirects back with error=access_denied; it
// returns that redirect.
func (op *UpstreamOP) Deny(t testing.TB, browser *http.Client, authURL string) *url.URL {
	t.Helper()
	return op.drive(t, browser, authURL, func(page *upstreamPage) *http.Request {
		m := upstreamCancel.FindStringSubmatch(page.body)
		if m == nil {
			t.Fatalf("upstream OP: no cancel link at %s:\n%s", page.url, page.body)
		}
		return page.get(t, html.UnescapeString(m[1]))
	})
}

// upstreamPage is an interaction page of the provider.
type upstreamPage struct {
	url    *url.URL
	body   string
	prompt string // login or consent
	action string // the form's target
}

func (p *upstreamPage) post(t testing.TB, form url.Values) *http.Request {
	t.Helper()
	target, err := p.url.Parse(p.action)
	if err != nil {
		t.Fatalf("upstream OP: form action %q: %v", p.action, err)
	}
	req, err := http.NewRequest(http.MethodPost, target.String(), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func (p *upstreamPage) get(t testing.TB, ref string) *http.Request {
	t.Helper()
	target, err := p.url.Parse(ref)
	if err != nil {
		t.Fatalf("upstream OP: link %q: %v", ref, err)
	}
	req, err := http.NewRequest(http.MethodGet, target.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// drive requests authURL and follows what the provider answers: its
// redirects to itself, and each of its pages through act, until it
// redirects elsewhere — back to the relying party — and returns that URL.
func (op *UpstreamOP) drive(t testing.TB, browser *http.Client, authURL string, act func(*upstreamPage) *http.Request) *url.URL {
	t.Helper()
	if browser.CheckRedirect == nil || browser.Jar == nil {
		t.Fatal("upstream OP: the browser needs a cookie jar and must not follow redirects")
	}
	req, err := http.NewRequest(http.MethodGet, authURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !op.owns(req.URL) {
		t.Fatalf("upstream OP: %s is not at the provider %s", authURL, op.Issuer)
	}
	for range upstreamMaxHops {
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatalf("upstream OP: %s %s: %v", req.Method, req.URL, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode/100 == 3:
			loc, err := resp.Location()
			if err != nil {
				t.Fatalf("upstream OP: %s %s: %d without a Location", req.Method, req.URL, resp.StatusCode)
			}
			if !op.owns(loc) {
				return loc
			}
			if req, err = http.NewRequest(http.MethodGet, loc.String(), nil); err != nil {
				t.Fatal(err)
			}
		case resp.StatusCode == http.StatusOK:
			page := &upstreamPage{url: req.URL, body: string(body)}
			if m := upstreamPrompt.FindStringSubmatch(page.body); m != nil {
				page.prompt = m[1]
			}
			if m := upstreamForm.FindStringSubmatch(page.body); m != nil {
				page.action = html.UnescapeString(m[1])
			}
			if page.prompt == "" || page.action == "" {
				t.Fatalf("upstream OP: %s %s: not an interaction page:\n%s", req.Method, req.URL, body)
			}
			req = act(page)
		default:
			t.Fatalf("upstream OP: %s %s: %d\n%s\n%s", req.Method, req.URL, resp.StatusCode, body, op.output.String())
		}
	}
	t.Fatalf("upstream OP: still at the provider after %d requests", upstreamMaxHops)
	return nil
}

// owns reports whether u is at the provider (so a relying party's redirect
// URI must not be on the provider's host and port).
func (op *UpstreamOP) owns(u *url.URL) bool {
	return u.Scheme+"://"+u.Host == op.Issuer
}

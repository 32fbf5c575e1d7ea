package applications_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/endpoints/applications"
	"orgauth/pkg/jwt"
	"orgauth/pkg/platform/httpx"
	"orgauth/pkg/storage"
	"orgauth/test/testenv"
)

// env is the applications API and the token endpoint on the emulators, with
// one clock the test moves.
type env struct {
	st       *testenv.Stack
	api      http.Handler
	tokenEP  http.Handler
	now      time.Time
	mu       sync.Mutex
	org1     string // the stack's Enterprise Large organization
	org2     string // an organization on the Team plan
	creator  string
	member   string
	outsider string
	tokens   map[string]string // actor -> bearer token ("" for none)
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st := testenv.NewStack(t)
	e := &env{st: st, now: time.Now().UTC()}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	cfg := st.Stage.Cfg
	verifier := jwt.NewVerifier(cfg.Issuer, st.Stage.Keys, e.clock)
	e.api = httpx.Middleware(log, nil, applications.New(st.Stage.Store, verifier, applications.Config{Audience: cfg.ManagementAudience, DefaultAccessTokenLifetime: time.Hour}, log, e.clock, storage.ErrInvalidCursor).Routes())
	e.tokenEP = st.WithClock(e.clock, st.Token)

	e.org1 = st.OrgID
	e.org2 = st.AddOrganization(t, domain.PlanTeam)
	e.creator = st.AddUser(t, e.org1, "creator@example.com")
	e.member = st.AddUser(t, e.org1, "member@example.com")
	e.outsider = st.AddUser(t, e.org2, "outsider@example.com")
	mgmt := cfg.ManagementAudience
	past := jwt.NewIssuer(cfg.Issuer, st.Stage.Keys, func() time.Time { return e.now.Add(-2 * time.Hour) }, nil)
	expired, _, err := past.AccessToken(context.Background(), jwt.AccessRequest{Subject: e.creator, ClientID: domain.ConsoleClientID, OrgID: e.org1, Audience: mgmt, Lifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// The creator's token for the management audience, obtained by another
	// of the organization's applications than the console.
	otherApp, _, err := st.Stage.Issuer().AccessToken(context.Background(), jwt.AccessRequest{Subject: e.creator, ClientID: "some-spa", OrgID: e.org1, Audience: mgmt, Lifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	e.tokens = map[string]string{
		"creator":      st.UserToken(t, e.creator, e.org1, 72*time.Hour, mgmt),
		"member":       st.UserToken(t, e.member, e.org1, 72*time.Hour, mgmt),
		"outsider":     st.UserToken(t, e.outsider, e.org2, 72*time.Hour, mgmt),
		"m2m":          e.m2mToken(t, st.ClientID, st.ClientSecret, mgmt),
		"expired":      expired,
		"wrong-aud":    st.UserToken(t, e.creator, e.org1, time.Hour, st.Audience),
		"none":         "",
		"garbage":      "not-a-token",
		"other-issuer": otherIssuerToken(t, st, e.creator, e.org1, mgmt),
		"other-app":    otherApp,
	}
	return e
}

func otherIssuerToken(t *testing.T, st *testenv.Stack, sub, org, aud string) string {
	iss := jwt.NewIssuer("https://evil.example.com", st.Stage.Keys, nil, nil)
	raw, _, err := iss.AccessToken(context.Background(), jwt.AccessRequest{Subject: sub, ClientID: "x", OrgID: org, Audience: aud, Lifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// m2mToken gets a real client_credentials token from the token endpoint.
func (e *env) m2mToken(t *testing.T, id, secret, audience string) string {
	t.Helper()
	status, body := e.clientCredentials(id, secret, audience)
	if status != 200 {
		t.Fatalf("client_credentials: %d %v", status, body)
	}
	return body["access_token"].(string)
}

func (e *env) clientCredentials(id, secret, audience string) (int, map[string]any) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "audience": {audience}}
	r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	e.tokenEP.ServeHTTP(w, r)
	var m map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &m)
	return w.Code, m
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (e *env) do(t *testing.T, actor, method, path, body string, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if tok := e.tokens[actor]; tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	e.api.ServeHTTP(w, r)
	resp := response{status: w.Code, header: w.Header(), raw: w.Body.String()}
	if w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), &resp.body); err != nil {
			t.Fatalf("%s %s: body is not JSON: %s", method, path, w.Body)
		}
	}
	if w.Code >= 400 && w.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("%s %s: error %d with Content-Type %q", method, path, w.Code, w.Header().Get("Content-Type"))
	}
	return resp
}

func (e *env) create(t *testing.T, actor, body string) response {
	t.Helper()
	r := e.do(t, actor, "POST", "/applications", body)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	return r
}

const spaBody = `{"name":"Console","type":"spa","callback_urls":["https://app.example.com/cb","http://127.0.0.1:8080/cb"],"allowed_origins":["https://app.example.com"],"logout_urls":["https://app.example.com/"]}`

// TestAuthorizationMatrix runs every actor against every route.
func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t)
	actors := []string{"creator", "member", "outsider", "m2m", "expired", "wrong-aud", "none", "garbage", "other-issuer", "other-app"}
	unauth := map[string]bool{"expired": true, "wrong-aud": true, "none": true, "garbage": true, "other-issuer": true, "other-app": true}
	routes := []struct {
		name   string
		method string
		path   func(id string) string
		body   string
		want   map[string]int // actor -> status; missing = 401 for unauth actors
	}{
		{"create", "POST", func(string) string { return "/applications" }, `{"name":"x","type":"spa"}`,
			map[string]int{"creator": 201, "member": 201, "outsider": 201, "m2m": 403}},
		{"list", "GET", func(string) string { return "/applications" }, "",
			map[string]int{"creator": 200, "member": 200, "outsider": 200, "m2m": 200}},
		{"get", "GET", func(id string) string { return "/applications/" + id }, "",
			map[string]int{"creator": 200, "member": 200, "outsider": 404, "m2m": 200}},
		{"patch", "PATCH", func(id string) string { return "/applications/" + id }, `{"description":"changed"}`,
			map[string]int{"creator": 200, "member": 403, "outsider": 404, "m2m": 403}},
		{"rotate", "POST", func(id string) string { return "/applications/" + id + "/rotate-secret" }, "",
			map[string]int{"creator": 200, "member": 403, "outsider": 404, "m2m": 403}},
		{"delete", "DELETE", func(id string) string { return "/applications/" + id }, "",
			map[string]int{"creator": 204, "member": 403, "outsider": 404, "m2m": 403}},
	}
	for _, rt := range routes {
		for _, actor := range actors {
			t.Run(rt.name+"/"+actor, func(t *testing.T) {
				// A fresh M2M application of the creator for each case.
				app := e.create(t, "creator", `{"name":"target","type":"m2m","scopes":["read"]}`)
				id := app.body["client_id"].(string)
				want, ok := rt.want[actor]
				if !ok && unauth[actor] {
					want = 401
				}
				r := e.do(t, actor, rt.method, rt.path(id), rt.body)
				if r.status != want {
					t.Fatalf("%s %s as %s: %d, want %d: %s", rt.method, rt.path(id), actor, r.status, want, r.raw)
				}
				switch {
				case want == 401:
					if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
						t.Errorf("401 without a Bearer challenge")
					}
				case want == 403:
					if d, _ := r.body["detail"].(string); d == "" {
						t.Errorf("403 does not say why")
					}
				case rt.name == "list":
					found := strings.Contains(r.raw, id)
					if found != (actor != "outsider") {
						t.Errorf("list as %s shows the application: %v", actor, found)
					}
				}
				// A refused change left the application as it was.
				// Its ETag is the one creation returned (any write changes it),
				// and its secret still works (a refused rotation kept it).
				if want >= 400 && rt.method != "GET" && rt.name != "create" {
					after := e.do(t, "creator", "GET", "/applications/"+id, "")
					if after.status != 200 || after.header.Get("ETag") == "" || after.header.Get("ETag") != app.header.Get("ETag") {
						t.Errorf("refused %s changed the application: ETag %q, was %q: %s", rt.name, after.header.Get("ETag"), app.header.Get("ETag"), after.raw)
					}
					if status, body := e.clientCredentials(id, app.body["client_secret"].(string), e.st.Audience); status != 200 {
						t.Errorf("refused %s broke the application's secret: %d %v", rt.name, status, body)
					}
				}
			})
		}
	}
}

func TestCreateAndRead(t *testing.T) {
	e := newEnv(t)
	r := e.create(t, "creator", `{"name":"Backend","type":"m2m","description":"nightly jobs","scopes":["read"],"access_token_lifetime":600}`)
	secret, _ := r.body["client_secret"].(string)
	id := r.body["client_id"].(string)
	if len(secret) < 40 || r.header.Get("Location") != "/applications/"+id || r.header.Get("ETag") == "" {
		t.Fatalf("create response: %v %v", r.header, r.body)
	}
	for k, want := range map[string]any{"organization_id": e.org1, "created_by": e.creator, "type": "m2m", "access_token_lifetime": 600.0, "name": "Backend"} {
		if r.body[k] != want {
			t.Errorf("%s = %v, want %v", k, r.body[k], want)
		}
	}
	for _, k := range []string{"created_at", "updated_at"} {
		if _, err := time.Parse(time.RFC3339, fmt.Sprint(r.body[k])); err != nil {
			t.Errorf("%s = %v", k, r.body[k])
		}
	}
	// The secret works at the token endpoint and is never shown again.
	if status, body := e.clientCredentials(id, secret, e.st.Audience); status != 200 || body["scope"] != "read" || body["expires_in"] != 600.0 {
		t.Fatalf("new secret: %d %v", status, body)
	}
	for _, actor := range []string{"creator", "member"} {
		g := e.do(t, actor, "GET", "/applications/"+id, "")
		if strings.Contains(g.raw, secret) || strings.Contains(g.raw, "secret_hash") || g.body["client_secret"] != nil {
			t.Fatalf("GET shows a secret: %s", g.raw)
		}
		if g.header.Get("ETag") != r.header.Get("ETag") {
			t.Errorf("ETag changed without a write")
		}
	}
	l := e.do(t, "member", "GET", "/applications", "")
	if strings.Contains(l.raw, secret) {
		t.Fatal("list shows a secret")
	}
	spa := e.create(t, "member", spaBody)
	if spa.body["client_secret"] != nil {
		t.Fatal("SPA got a secret")
	}
}

func TestM2MNeedsPlan(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, "outsider", "POST", "/applications", `{"name":"x","type":"m2m"}`)
	if r.status != 403 || !strings.Contains(r.body["detail"].(string), "enterprise_large") {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if r := e.do(t, "outsider", "POST", "/applications", `{"name":"x","type":"spa"}`); r.status != 201 {
		t.Fatalf("SPA on team plan: %d %s", r.status, r.raw)
	}
}

func TestValidation(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("x", 101)
	urls := make([]string, 21)
	for i := range urls {
		urls[i] = fmt.Sprintf(`"https://app.example.com/%d"`, i)
	}
	cases := []struct {
		name, body, field string
	}{
		{"unknown field", `{"name":"a","type":"spa","colour":"red"}`, "body"}, // a name the sender chose is never shown back
		{"wrong type for name", `{"name":5,"type":"spa"}`, "name"},
		{"missing name", `{"type":"spa"}`, "name"},
		{"missing type", `{"name":"a"}`, "type"},
		{"bad type", `{"name":"a","type":"native"}`, "type"},
		{"empty name", `{"name":"","type":"spa"}`, "name"},
		{"long name", `{"name":"` + long + `","type":"spa"}`, "name"},
		{"too many callbacks", `{"name":"a","type":"spa","callback_urls":[` + strings.Join(urls, ",") + `]}`, "callback_urls"},
		{"callbacks not a list", `{"name":"a","type":"spa","callback_urls":"https://a.example.com"}`, "callback_urls"},
		{"relative callback", `{"name":"a","type":"spa","callback_urls":["/cb"]}`, "callback_urls[0]"},
		{"http callback", `{"name":"a","type":"spa","callback_urls":["http://app.example.com/cb"]}`, "callback_urls[0]"},
		{"fragment", `{"name":"a","type":"spa","callback_urls":["https://app.example.com/cb#x"]}`, "callback_urls[0]"},
		{"wildcard", `{"name":"a","type":"spa","callback_urls":["https://*.example.com/cb"]}`, "callback_urls[0]"},
		{"userinfo", `{"name":"a","type":"spa","callback_urls":["https://u:p@app.example.com/cb"]}`, "callback_urls[0]"},
		{"javascript scheme", `{"name":"a","type":"spa","logout_urls":["javascript:alert(1)"]}`, "logout_urls[0]"},
		{"http logout", `{"name":"a","type":"spa","logout_urls":["https://ok.example.com","http://app.example.com/"]}`, "logout_urls[1]"},
		{"origin with path", `{"name":"a","type":"spa","allowed_origins":["https://app.example.com/x"]}`, "allowed_origins[0]"},
		{"origin with query", `{"name":"a","type":"spa","allowed_origins":["https://app.example.com?x=1"]}`, "allowed_origins[0]"},
		{"http origin", `{"name":"a","type":"spa","allowed_origins":["http://app.example.com"]}`, "allowed_origins[0]"},
		{"callback on m2m", `{"name":"a","type":"m2m","callback_urls":["https://app.example.com/cb"]}`, "callback_urls"},
		{"origins on m2m", `{"name":"a","type":"m2m","allowed_origins":["https://app.example.com"]}`, "allowed_origins"},
		{"secret on spa", `{"name":"a","type":"spa","client_secret":"mine"}`, "client_secret"},
		{"lifetime too short", `{"name":"a","type":"m2m","access_token_lifetime":10}`, "access_token_lifetime"},
		{"spa lifetime too long", `{"name":"a","type":"spa","access_token_lifetime":7200}`, "access_token_lifetime"},
		{"lifetime not a number", `{"name":"a","type":"m2m","access_token_lifetime":"1h"}`, "access_token_lifetime"},
		{"bad scope", `{"name":"a","type":"m2m","scopes":["has space"]}`, "scopes[0]"},
		{"read-only field", `{"name":"a","type":"spa","client_id":"mine"}`, "client_id"},
		{"duplicate key", `{"name":"a","name":"b","type":"spa"}`, "name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, "creator", "POST", "/applications", c.body)
			if r.status != 400 || r.body["field"] != c.field {
				t.Fatalf("%d field=%v, want 400 field=%s: %s", r.status, r.body["field"], c.field, r.raw)
			}
			if d, _ := r.body["detail"].(string); !strings.Contains(d, c.field) {
				t.Errorf("detail does not name the field: %q", d)
			}
		})
	}
	for _, c := range []struct {
		name, ctype, body string
		status            int
	}{
		{"not JSON", "application/json", `{"name":`, 400},
		{"array body", "application/json", `[]`, 400},
		{"two objects", "application/json", `{"name":"a","type":"spa"}{}`, 400},
		{"form body", "application/x-www-form-urlencoded", `name=a`, 415},
		{"huge body", "application/json", `{"name":"` + strings.Repeat("x", 70<<10) + `"}`, 413},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, "creator", "POST", "/applications", c.body, "Content-Type", c.ctype)
			if r.status != c.status {
				t.Fatalf("%d, want %d: %s", r.status, c.status, r.raw)
			}
		})
	}
	// PATCH rules: type is immutable; a change that breaks a rule is refused
	// and writes nothing.
	app := e.create(t, "creator", spaBody)
	id := app.body["client_id"].(string)
	for _, c := range []struct{ body, field string }{
		{`{"type":"m2m"}`, "type"},
		{`{"callback_urls":["http://evil.example.com/cb"]}`, "callback_urls[0]"},
		{`{"name":null}`, "name"},
	} {
		r := e.do(t, "creator", "PATCH", "/applications/"+id, c.body)
		if r.status != 400 || r.body["field"] != c.field {
			t.Errorf("PATCH %s: %d %s", c.body, r.status, r.raw)
		}
	}
	if g := e.do(t, "creator", "GET", "/applications/"+id, ""); g.header.Get("ETag") != app.header.Get("ETag") {
		t.Errorf("a refused PATCH wrote")
	}
}

func TestPatchConcurrency(t *testing.T) {
	e := newEnv(t)
	app := e.create(t, "creator", spaBody)
	id := app.body["client_id"].(string)
	etag0 := app.header.Get("ETag")

	// Concurrent PATCHes of different fields, without If-Match: none is lost.
	patches := []string{
		`{"name":"Renamed"}`, `{"description":"set concurrently"}`, `{"scopes":["read"]}`,
		`{"logout_urls":["https://app.example.com/bye"]}`, `{"access_token_lifetime":900}`,
		`{"allowed_origins":["https://app.example.com","https://admin.example.com"]}`, `{"token_reuse":false}`,
	}
	var wg sync.WaitGroup
	statuses := make([]int, len(patches))
	for i, p := range patches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.do(t, "creator", "PATCH", "/applications/"+id, p).status
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 200 {
			t.Fatalf("PATCH %s: %d", patches[i], s)
		}
	}
	g := e.do(t, "creator", "GET", "/applications/"+id, "")
	want := map[string]string{"name": `"Renamed"`, "description": `"set concurrently"`, "scopes": `["read"]`,
		"logout_urls": `["https://app.example.com/bye"]`, "access_token_lifetime": `900`,
		"allowed_origins": `["https://app.example.com","https://admin.example.com"]`, "token_reuse": `false`}
	for k, v := range want {
		b, _ := json.Marshal(g.body[k])
		if string(b) != v {
			t.Errorf("lost update: %s = %s, want %s", k, b, v)
		}
	}

	// With the same stale If-Match, only one of several concurrent PATCHes wins.
	cur := g.header.Get("ETag")
	if cur == etag0 {
		t.Fatal("ETag did not change")
	}
	if r := e.do(t, "creator", "PATCH", "/applications/"+id, `{"name":"stale"}`, "If-Match", etag0); r.status != 412 {
		t.Fatalf("stale If-Match: %d", r.status)
	}
	wins := 0
	var mu sync.Mutex
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.do(t, "creator", "PATCH", "/applications/"+id, fmt.Sprintf(`{"description":"writer %d"}`, i), "If-Match", cur)
			mu.Lock()
			defer mu.Unlock()
			switch r.status {
			case 200:
				wins++
			case 412:
			default:
				t.Errorf("If-Match race: %d %s", r.status, r.raw)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent PATCHes with the same If-Match succeeded, want 1", wins)
	}
	if r := e.do(t, "creator", "DELETE", "/applications/"+id, "", "If-Match", cur); r.status != 412 {
		t.Fatalf("DELETE with stale If-Match: %d", r.status)
	}
}

func TestRotateSecretGracePeriod(t *testing.T) {
	e := newEnv(t)
	app := e.create(t, "creator", `{"name":"fleet","type":"m2m"}`)
	id, old := app.body["client_id"].(string), app.body["client_secret"].(string)

	r := e.do(t, "creator", "POST", "/applications/"+id+"/rotate-secret", `{"grace_period":3600}`)
	if r.status != 200 {
		t.Fatalf("rotate: %d %s", r.status, r.raw)
	}
	fresh := r.body["client_secret"].(string)
	until, err := time.Parse(time.RFC3339, fmt.Sprint(r.body["previous_secret_expires_at"]))
	if err != nil || until.Sub(e.clock()) != time.Hour {
		t.Fatalf("previous_secret_expires_at = %v", r.body["previous_secret_expires_at"])
	}
	if g := e.do(t, "member", "GET", "/applications/"+id, ""); g.body["previous_secret_expires_at"] != r.body["previous_secret_expires_at"] {
		t.Errorf("GET does not say when the old secret stops: %s", g.raw)
	}
	ok := func(secret string) bool { s, _ := e.clientCredentials(id, secret, e.st.Audience); return s == 200 }
	if !ok(old) || !ok(fresh) {
		t.Fatal("inside the grace period both secrets must work")
	}
	e.advance(time.Hour - time.Second)
	if !ok(old) {
		t.Fatal("old secret refused before the grace period ended")
	}
	e.advance(time.Second)
	if ok(old) {
		t.Fatal("old secret still works after the grace period")
	}
	if !ok(fresh) {
		t.Fatal("new secret refused")
	}
	if g := e.do(t, "member", "GET", "/applications/"+id, ""); g.body["previous_secret_expires_at"] != nil {
		t.Errorf("expired grace still shown: %s", g.raw)
	}

	// Grace 0: the old secret stops at once. Default grace: 24 h.
	r0 := e.do(t, "creator", "POST", "/applications/"+id+"/rotate-secret", `{"grace_period":0}`)
	if r0.status != 200 || ok(fresh) || !ok(r0.body["client_secret"].(string)) {
		t.Fatalf("grace 0: %d %s", r0.status, r0.raw)
	}
	rd := e.do(t, "creator", "POST", "/applications/"+id+"/rotate-secret", "")
	until, _ = time.Parse(time.RFC3339, fmt.Sprint(rd.body["previous_secret_expires_at"]))
	if rd.status != 200 || until.Sub(e.clock()) != 24*time.Hour {
		t.Fatalf("default grace: %d %s", rd.status, rd.raw)
	}
	for _, body := range []string{`{"grace_period":604801}`, `{"grace_period":-1}`, `{"grace":5}`} {
		if r := e.do(t, "creator", "POST", "/applications/"+id+"/rotate-secret", body); r.status != 400 {
			t.Errorf("rotate %s: %d", body, r.status)
		}
	}
	spa := e.create(t, "creator", spaBody)
	if r := e.do(t, "creator", "POST", "/applications/"+spa.body["client_id"].(string)+"/rotate-secret", ""); r.status != 409 {
		t.Errorf("rotate on SPA: %d", r.status)
	}
}

func TestDeleteStopsTokens(t *testing.T) {
	e := newEnv(t)
	app := e.create(t, "creator", `{"name":"doomed","type":"m2m"}`)
	id, secret := app.body["client_id"].(string), app.body["client_secret"].(string)
	if s, _ := e.clientCredentials(id, secret, e.st.Audience); s != 200 {
		t.Fatal("token refused before delete")
	}
	if r := e.do(t, "creator", "DELETE", "/applications/"+id, ""); r.status != 204 {
		t.Fatalf("delete: %d", r.status)
	}
	if s, body := e.clientCredentials(id, secret, e.st.Audience); s != 401 || body["error"] != "invalid_client" {
		t.Fatalf("token after delete: %d %v", s, body)
	}
	if r := e.do(t, "creator", "GET", "/applications/"+id, ""); r.status != 404 {
		t.Fatalf("GET after delete: %d", r.status)
	}
	if r := e.do(t, "creator", "DELETE", "/applications/"+id, ""); r.status != 404 {
		t.Fatalf("second delete: %d", r.status)
	}
}

func TestListPagination(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := range 5 {
		e.advance(time.Millisecond) // creation order is created_at order
		r := e.create(t, "member", fmt.Sprintf(`{"name":"app %d","type":"spa"}`, i))
		ids = append(ids, r.body["client_id"].(string))
	}
	var seen []string
	next := ""
	for page := 0; ; page++ {
		path := "/applications?limit=2"
		if next != "" {
			path += "&next=" + url.QueryEscape(next)
		}
		r := e.do(t, "creator", "GET", path, "")
		if r.status != 200 {
			t.Fatalf("page %d: %d %s", page, r.status, r.raw)
		}
		for _, a := range r.body["applications"].([]any) {
			seen = append(seen, a.(map[string]any)["client_id"].(string))
		}
		next, _ = r.body["next"].(string)
		if next == "" {
			break
		}
		if page > 5 {
			t.Fatal("pagination does not end")
		}
	}
	// The stack seeded one M2M application first; then ours, in creation order.
	if len(seen) != 6 || strings.Join(seen[1:], ",") != strings.Join(ids, ",") {
		t.Fatalf("pages gave %v, want seeded + %v", seen, ids)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "next=garbage"} {
		if r := e.do(t, "creator", "GET", "/applications?"+q, ""); r.status != 400 {
			t.Errorf("GET ?%s: %d", q, r.status)
		}
	}
	// Another organization's list is its own.
	r := e.do(t, "outsider", "GET", "/applications", "")
	if n := len(r.body["applications"].([]any)); n != 0 {
		t.Fatalf("outsider sees %d applications", n)
	}
}

// Without limit, a page holds 50 applications; limit=100 is the largest.
func TestListDefaultPageSize(t *testing.T) {
	e := newEnv(t)
	for i := range 60 {
		e.advance(time.Millisecond)
		e.create(t, "member", fmt.Sprintf(`{"name":"app %d","type":"spa"}`, i))
	}
	r := e.do(t, "creator", "GET", "/applications", "")
	if n := len(r.body["applications"].([]any)); r.status != 200 || n != 50 || r.body["next"] == nil {
		t.Fatalf("default page: %d with %d applications, next %v", r.status, n, r.body["next"])
	}
	r = e.do(t, "creator", "GET", "/applications?limit=100", "")
	if n := len(r.body["applications"].([]any)); r.status != 200 || n != 61 || r.body["next"] != nil && r.body["next"] != "" {
		t.Fatalf("limit=100: %d with %d applications, next %v", r.status, n, r.body["next"])
	}
}

func TestDisabledUserRefused(t *testing.T) {
	e := newEnv(t)
	if _, err := e.st.Stage.Store.UpdateUser(context.Background(), e.member, func(u domain.User) (domain.User, error) {
		u.Disabled = true
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	if r := e.do(t, "member", "GET", "/applications", ""); r.status != 401 {
		t.Fatalf("disabled user: %d", r.status)
	}
}

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"orgauth"
	"orgauth/pkg/platform/routes"
	"orgauth/pkg/wiring"
	"orgauth/pkg/wiring/functions"
	"orgauth/test/testenv"
)

// Every route of template.yaml is mounted on the function the template
// names, and anything else answers API Gateway's 404.
func TestMountServesEveryTemplateRoute(t *testing.T) {
	st := testenv.NewStack(t)
	handlers, err := wiring.Build(*st.Stage, functions.All)
	if err != nil {
		t.Fatal(err)
	}
	// Each handler answers with its function's name, so the test sees
	// which function a route reached.
	named := map[string]http.Handler{}
	for id := range handlers {
		named[id] = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Header().Set("X-Function", id) })
	}
	mux, err := mount(named)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := routes.Parse(orgauth.Template)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) < 15 {
		t.Fatalf("only %d routes read from the template", len(rs))
	}
	for _, r := range rs {
		path := strings.ReplaceAll(r.Path, "{client_id}", "some-client")
		method := r.Method
		if method == "ANY" || method == "" {
			method = http.MethodPost
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(method, path, nil))
		if got := w.Header().Get("X-Function"); got != r.Function {
			t.Errorf("%s %s reached %q, want %s", method, path, got, r.Function)
		}
	}
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/no/such/route", nil))
	if w.Code != 404 || !strings.Contains(w.Body.String(), `"Not Found"`) {
		t.Errorf("unknown route: %d %s", w.Code, w.Body)
	}
	delete(named, "TokenFunction")
	if _, err := mount(named); err == nil || !strings.Contains(err.Error(), "TokenFunction") {
		t.Errorf("a route without a handler mounted: %v", err)
	}
}

// The seed creates the demo once: a second run with the same local.json
// finds everything valid and keeps the same organization, clients and
// credentials; the file describes them, and holds the only copy of the
// M2M secret.
func TestSeedIsIdempotent(t *testing.T) {
	st := testenv.NewStack(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "local.json")
	first, err := seed(ctx, st.Stage, path)
	if err != nil {
		t.Fatal(err)
	}
	if first.OrganizationID == "" || first.M2M.ClientSecret == "" || first.SPA.ClientID == "" || first.Console.ClientID == "" || first.User.Password == "" {
		t.Fatalf("seed left parts out: %+v", first)
	}
	second, err := seed(ctx, st.Stage, path)
	if err != nil {
		t.Fatal(err)
	}
	if second.OrganizationID != first.OrganizationID || second.M2M != first.M2M || second.SPA.ClientID != first.SPA.ClientID ||
		second.Console.ClientID != first.Console.ClientID || second.User != first.User {
		t.Fatalf("second seed made new things:\n%+v\n%+v", first, second)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var onDisk localFile
	if err := json.Unmarshal(raw, &onDisk); err != nil || onDisk.M2M != first.M2M || onDisk.Issuer != st.Stage.Cfg.Issuer {
		t.Fatalf("local.json %s: %v", raw, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("local.json holds secrets and is readable by others: %v", fi.Mode())
	}
	// A table that lost the demo (a new data directory) gets a new one.
	if err := st.Stage.Store.DeleteApplication(ctx, first.M2M.ClientID); err != nil {
		t.Fatal(err)
	}
	third, err := seed(ctx, st.Stage, path)
	if err != nil {
		t.Fatal(err)
	}
	if third.M2M.ClientID == first.M2M.ClientID || third.OrganizationID == first.OrganizationID {
		t.Fatalf("seed kept a demo whose client is gone: %+v", third)
	}
}

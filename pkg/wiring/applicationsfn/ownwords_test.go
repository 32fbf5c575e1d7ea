package applicationsfn_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"orgauth/pkg/wiring/applicationsfn"
	"orgauth/test/testenv"
)

// The management API's problems say what went wrong in its own words: no
// detail or field repeats a member name, an id or a method the sender
// chose.
func TestManagementProblemsNeverEchoInput(t *testing.T) {
	st := testenv.NewStack(t)
	tok := st.UserToken(t, st.OwnerID, st.OrgID, time.Hour, st.Stage.Cfg.ManagementAudience)
	h := st.Handler(applicationsfn.New)
	const attack = "Sign in again at https:__evil.example"
	for name, c := range map[string]struct{ method, path, body string }{
		"unknown member":         {"POST", "/applications", `{"name":"a","type":"spa","` + attack + `":1}`},
		"repeated unknown":       {"POST", "/applications", `{"name":"a","type":"spa","` + attack + `":1,"` + attack + `":2}`},
		"rotate unknown member":  {"POST", "/applications/" + st.ClientID + "/rotate-secret", `{"` + attack + `":1}`},
		"unknown application":    {"GET", "/applications/" + strings.ReplaceAll(attack, " ", "%20"), ""},
		"unknown application id": {"PATCH", "/applications/evil.example", `{"name":"b"}`},
		"method":                 {"EVILEXAMPLE", "/applications", ""},
	} {
		r := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		body, _ := io.ReadAll(w.Result().Body)
		if w.Code < 400 {
			t.Errorf("%s: answered %d", name, w.Code)
		}
		if strings.Contains(strings.ToLower(string(body)), "evil") {
			t.Errorf("%s: the problem repeats the sender's text: %d %s", name, w.Code, body)
		}
	}
}

package applications_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/test/testenv"
)

// Every change through the management API writes one audit line with the
// event, the actor, the application, the request's id and its source
// address: creation, update, secret rotation, deletion, and a member
// withdrawing a consent. The function is built through its constructor.
func TestManagementAuditLines(t *testing.T) {
	st := testenv.NewStack(t)
	logs := st.CaptureLogs()
	h := logs.Served(st.Applications())
	const ip = "192.0.2.1" // httptest's source address
	tok := st.UserToken(t, st.OwnerID, st.OrgID, time.Hour, st.Stage.Cfg.ManagementAudience)
	do := func(method, path, body string) (*http.Response, map[string]any) {
		t.Helper()
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+tok)
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var m map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &m)
		if w.Code >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
		}
		return w.Result(), m
	}
	who := func(client string) map[string]string {
		return map[string]string{"actor": st.OwnerID, "organization_id": st.OrgID, "client_id": client}
	}

	resp, app := do("POST", "/applications", `{"name":"Audited","type":"m2m","scopes":["read"]}`)
	id := app["client_id"].(string)
	logs.AuditOf(t, resp, "application_created", ip, who(id))
	resp, _ = do("PATCH", "/applications/"+id, `{"description":"nightly"}`)
	logs.AuditOf(t, resp, "application_updated", ip, who(id))
	resp, _ = do("POST", "/applications/"+id+"/rotate-secret", `{"grace_period":0}`)
	logs.AuditOf(t, resp, "application_secret_rotated", ip, who(id))
	resp, _ = do("DELETE", "/applications/"+id, "")
	logs.AuditOf(t, resp, "application_deleted", ip, who(id))

	spa := st.AddSPA(t, st.OrgID, "https://spa.example.com/cb", "https://spa.example.com/")
	if _, err := st.Stage.Store.PutConsent(context.Background(), domain.Consent{UserID: st.OwnerID, ClientID: spa, OrganizationID: st.OrgID,
		Scopes: domain.ConsentScopes(st.Audience, []string{"openid", "read"}), GrantedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	resp, _ = do("DELETE", "/consents/"+spa, "")
	logs.AuditOf(t, resp, "consent_withdrawn", ip, who(spa))
}

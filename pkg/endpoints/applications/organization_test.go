package applications_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"orgauth/pkg/domain"
)

// GET /organization answers each caller with its own organization, and what
// its plan allows; it is read-only, and needs a valid management token.
func TestOrganization(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		actor, org, plan string
		m2m              bool
	}{
		{"creator", e.org1, "enterprise_large", true},
		{"member", e.org1, "enterprise_large", true},
		{"m2m", e.org1, "enterprise_large", true},
		{"outsider", e.org2, "team", false},
	} {
		r := e.do(t, c.actor, "GET", "/organization", "")
		if r.status != 200 || r.body["id"] != c.org || r.body["plan"] != c.plan || r.body["m2m_allowed"] != c.m2m ||
			r.body["m2m_minimum_plan"] != "enterprise_large" || r.body["name"] == "" {
			t.Errorf("%s: %d %s", c.actor, r.status, r.raw)
		}
		if r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", c.actor, r.header.Get("Cache-Control"))
		}
	}
	// This month's M2M tokens, as the token functions counted them, against
	// the plan's quota.
	counter, resets := domain.TokenUsage(e.org1, e.clock())
	if _, err := e.st.Stage.Store.AddUsage(t.Context(), counter, 3, 1234, resets.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r := e.do(t, "member", "GET", "/organization", "")
	if r.body["m2m_token_quota"] != 1e6 || r.body["m2m_tokens_this_month"] != 1234.0 || r.body["m2m_quota_resets_at"] != resets.Format(time.RFC3339) {
		t.Errorf("usage: %s", r.raw)
	}
	for _, actor := range []string{"none", "expired", "wrong-aud", "garbage", "other-issuer"} {
		if r := e.do(t, actor, "GET", "/organization", ""); r.status != 401 {
			t.Errorf("%s: %d %s", actor, r.status, r.raw)
		}
	}
	for _, method := range []string{"POST", "PATCH", "PUT", "DELETE"} {
		r := httptest.NewRequest(method, "/organization", strings.NewReader(`{"plan":"enterprise_unlimited"}`))
		r.Header.Set("Authorization", "Bearer "+e.tokens["creator"])
		w := httptest.NewRecorder()
		e.api.ServeHTTP(w, r)
		if w.Code != 405 {
			t.Errorf("%s /organization: %d %s", method, w.Code, w.Body)
		}
	}
}

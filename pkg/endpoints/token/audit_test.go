package token_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"orgauth/test/testenv"
)

// httptest's requests come from this address.
const testSourceIP = "192.0.2.1"

// Every security event of the token endpoint is one JSON line with the
// event, who (client, user), the request's id and its source address.
func TestAuditLines(t *testing.T) {
	e := newFlowEnv(t)
	logs := e.st.CaptureLogs()
	h := logs.Served(e.token())
	ip := testSourceIP

	cc := func(secret string) *http.Response {
		resp, _ := testenv.Do(t, h, testenv.Call{Path: "/oauth/token", Form: url.Values{"grant_type": {"client_credentials"},
			"client_id": {e.st.ClientID}, "client_secret": {secret}, "audience": {e.st.Audience}}})
		return resp
	}
	resp := cc("wrong-" + e.st.ClientSecret)
	logs.AuditOf(t, resp, "client_auth_failed", ip, map[string]string{"client_id": e.st.ClientID, "method": "client_secret_post"})
	resp = cc(e.st.ClientSecret)
	logs.AuditOf(t, resp, "token_issued", ip, map[string]string{"client_id": e.st.ClientID, "grant_type": "client_credentials"})

	code, v := e.code(t, nil)
	resp, first := e.exchange(t, h, code, v)
	line := logs.AuditOf(t, resp, "token_issued", ip, map[string]string{"client_id": e.spa, "user_id": e.user, "grant_type": "authorization_code"})
	family, _ := line["family_id"].(string)
	if family == "" {
		t.Fatalf("token_issued names no family: %v", line)
	}

	// A replayed code: the replay, and the family it issued revoked.
	resp, _ = e.exchange(t, h, code, v)
	logs.AuditOf(t, resp, "code_replayed", ip, map[string]string{"client_id": e.spa, "user_id": e.user, "family_id": family})
	logs.AuditOf(t, resp, "family_revoked", ip, map[string]string{"family_id": family})
	_ = first

	// Refresh, then a reuse past the grace: the reuse and the revocation.
	code, v = e.code(t, nil)
	_, first = e.exchange(t, h, code, v)
	rt1 := first["refresh_token"].(string)
	resp, _ = e.refresh(t, h, rt1)
	line = logs.AuditOf(t, resp, "token_issued", ip, map[string]string{"client_id": e.spa, "user_id": e.user, "grant_type": "refresh_token"})
	family = line["family_id"].(string)
	later := logs.Served(e.st.WithClock(func() time.Time { return e.clock().Add(time.Minute) }, e.st.Token))
	resp, _ = e.refresh(t, later, rt1)
	logs.AuditOf(t, resp, "refresh_reuse", ip, map[string]string{"client_id": e.spa, "user_id": e.user, "family_id": family})
	logs.AuditOf(t, resp, "family_revoked", ip, map[string]string{"family_id": family})

	// Revoking an access token.
	code, v = e.code(t, nil)
	_, first = e.exchange(t, h, code, v)
	resp, _ = testenv.Do(t, h, testenv.Call{Path: "/oauth/revoke", Form: url.Values{"token": {first["access_token"].(string)}, "client_id": {e.spa}}})
	logs.AuditOf(t, resp, "access_revoked", ip, map[string]string{"client_id": e.spa})
}

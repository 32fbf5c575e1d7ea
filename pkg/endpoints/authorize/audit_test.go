package authorize_test

import (
	"net/http"
	"testing"
)

// Every security event of sign-in is one JSON line with the event, who
// (client, user or account), the request's id and its source address.
func TestAuditLines(t *testing.T) {
	e := newEnv(t)
	logs := e.st.CaptureLogs()
	e.h = logs.Served(e.st.WithClock(e.clock, e.st.Authorize))

	email := e.user(t, e.st.OrgID, "audited")
	id := e.userID(t, email)
	b := e.browser()
	form := b.loginForm(t, authzQuery(e.spa, nil))
	resp := b.submit(t, form, email, "not the password")
	logs.AuditOf(t, resp, "login_failed", b.ip, map[string]string{"client_id": e.spa, "user_id": id, "reason": "password"})
	resp = b.submit(t, form, email, pw)
	e.wantCode(t, resp)
	logs.AuditOf(t, resp, "login_succeeded", b.ip, map[string]string{"client_id": e.spa, "user_id": id})
	logs.AuditOf(t, resp, "code_issued", b.ip, map[string]string{"client_id": e.spa, "user_id": id})

	// A member of another organization.
	stranger := e.user(t, e.org2, "stranger")
	b = e.browser()
	resp = b.signIn(t, authzQuery(e.spa, nil), stranger)
	logs.AuditOf(t, resp, "login_refused", b.ip, map[string]string{"client_id": e.spa, "user_id": e.userID(t, stranger)})

	// Consent, granted and denied.
	newcomer, nid := e.newcomer(t, e.st.OrgID, "consenting")
	b = e.browser()
	_, cf := consentFields(t, b.signIn(t, authzQuery(e.spa, nil), newcomer))
	resp = b.answer(t, cf, "deny")
	logs.AuditOf(t, resp, "consent_denied", b.ip, map[string]string{"client_id": e.spa, "user_id": nid})
	b = e.browser()
	_, cf = consentFields(t, b.signIn(t, authzQuery(e.spa, nil), newcomer))
	resp = b.answer(t, cf, "approve")
	logs.AuditOf(t, resp, "consent_granted", b.ip, map[string]string{"client_id": e.spa, "user_id": nid})

	// Throttled: the sixth wrong password for one account from one address.
	b = e.browser()
	form = b.loginForm(t, authzQuery(e.spa, nil))
	for range 5 {
		b.submit(t, form, email, "a wrong guess")
	}
	resp = b.submit(t, form, email, "a wrong guess")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("sixth guess: %d", resp.StatusCode)
	}
	logs.AuditOf(t, resp, "login_throttled", b.ip, map[string]string{"client_id": e.spa, "limit": "account-ip"})

	// Under attack: more than 20 attempts at one account in the window,
	// from browsers without its device cookie.
	target := e.user(t, e.st.OrgID, "target")
	from := map[string]*http.Response{}
	for range 5 {
		b := e.browser()
		form := b.loginForm(t, authzQuery(e.spa, nil))
		for range 5 {
			from[b.ip] = b.submit(t, form, target, "a wrong guess")
			if lines := logs.Events(t, "login_account_under_attack"); len(lines) > 0 {
				logs.AuditOf(t, from[b.ip], "login_account_under_attack", b.ip, map[string]string{"account": target})
				return
			}
		}
	}
	t.Fatal("no login_account_under_attack line after 25 attempts")
}

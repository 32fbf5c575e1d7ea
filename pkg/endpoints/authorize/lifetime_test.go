package authorize_test

import (
	"net/url"
	"testing"
	"time"
)

// A session lasts 12 hours from sign-in: its cookie says so, prompt=none
// gets a code until then and login_required after.
func TestSessionLifetime(t *testing.T) {
	e := newEnv(t)
	email := e.user(t, e.st.OrgID, "twelve")
	b := e.browser()
	e.wantCode(t, b.signIn(t, authzQuery(e.spa, nil), email))
	c := b.cookies["__Host-orgauth_session"]
	if c == nil || c.MaxAge != 12*3600 || !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" {
		t.Fatalf("session cookie %+v", c)
	}
	silent := authzQuery(e.spa, func(q url.Values) { q.Set("prompt", "none") })
	e.advance(12*time.Hour - time.Second)
	e.wantCode(t, b.do(t, "GET", silent, nil))
	e.advance(2 * time.Second)
	e.wantError(t, b.do(t, "GET", silent, nil), "login_required")
}

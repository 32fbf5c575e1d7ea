package authorize_test

import (
	"testing"

	"orgauth/pkg/password"
)

// An unknown email costs the same argon2id work as a wrong password, so
// timing does not tell which accounts exist.
func TestUnknownEmailDoesTheSameWork(t *testing.T) {
	e := newEnv(t)
	email := e.user(t, e.st.OrgID, "known")
	work := func(email string) int64 {
		b := e.browser()
		form := b.loginForm(t, authzQuery(e.spa, nil))
		before := password.Derivations()
		wantPage(t, b.submit(t, form, email, "not the password"), 200, "Incorrect email or password.")
		return password.Derivations() - before
	}
	known, unknown := work(email), work("nobody-"+e.st.OrgID+"@example.com")
	if known != 1 || unknown != known {
		t.Fatalf("argon2id derivations: %d for a known email, %d for an unknown one", known, unknown)
	}
}

package token_test

import (
	"net/url"
	"testing"

	"orgauth/pkg/domain"
	"orgauth/test/testenv"
)

// An unknown client with a secret costs the same work as a known client
// with a wrong one: the same secret-hash comparisons, so timing does not
// tell which client ids exist.
func TestUnknownClientDoesTheSameWork(t *testing.T) {
	st := testenv.NewStack(t)
	h := st.Token()
	work := func(clientID string) int64 {
		before := domain.SecretComparisons()
		resp, body := testenv.Do(t, h, testenv.Call{Path: "/oauth/token", Form: url.Values{"grant_type": {"client_credentials"},
			"client_id": {clientID}, "client_secret": {"a wrong secret"}, "audience": {st.Audience}}})
		wantError(t, resp, body, 401, "invalid_client")
		return domain.SecretComparisons() - before
	}
	known, unknown := work(st.ClientID), work("no-such-client")
	if known == 0 || unknown != known {
		t.Fatalf("secret comparisons: %d for a known client, %d for an unknown one", known, unknown)
	}
}

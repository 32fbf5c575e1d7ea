package tokenfn_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/jwt"
	"orgauth/pkg/wiring/tokenfn"
	"orgauth/test/testenv"
)

// switchableKeys wraps a key set whose active key refuses to sign while
// failing is set, as KMS does when it throttles or is unavailable.
type switchableKeys struct {
	jwt.KeySet
	failing *atomic.Bool
}

func (f switchableKeys) Active(ctx context.Context) (jwt.Key, error) {
	k, err := f.KeySet.Active(ctx)
	if err != nil {
		return nil, err
	}
	return switchableKey{k, f.failing}, nil
}

type switchableKey struct {
	jwt.Key
	failing *atomic.Bool
}

func (k switchableKey) SignDigest(ctx context.Context, digest []byte) ([]byte, error) {
	if k.failing.Load() {
		return nil, errors.New("ThrottlingException: Rate exceeded")
	}
	return k.Key.SignDigest(ctx, digest)
}

// A refresh whose signing fails (a KMS throttle) answers 503 with
// Retry-After and leaves the presented refresh token usable: the client's
// retry, even after the reuse grace, gets new tokens, and the sign-in is
// not revoked as if the token had been stolen.
func TestRefreshWithAFailingSignerLeavesTheTokenUsable(t *testing.T) {
	st := testenv.NewStack(t)
	failing := &atomic.Bool{}
	st.Stage.Keys = switchableKeys{st.Stage.Keys, failing}
	now := time.Now()
	st.Stage.Now = func() time.Time { return now }
	h := st.Handler(tokenfn.New)

	spa := st.AddSPA(t, st.OrgID, "https://spa.example.com/cb", "https://spa.example.com/bye")
	user := st.AddUser(t, st.OrgID, "ada-"+st.OrgID+"@example.com")
	verifier, challenge := testenv.PKCE()
	code := st.IssueCode(t, testenv.CodeGrant{ClientID: spa, UserID: user, OrgID: st.OrgID, RedirectURI: "https://spa.example.com/cb",
		Challenge: challenge, Audience: st.Audience, Scopes: []string{"openid", "offline_access", "read"}})
	resp, body := testenv.Do(t, h, testenv.Call{Path: "/oauth/token", Form: url.Values{"grant_type": {"authorization_code"},
		"code": {code}, "code_verifier": {verifier}, "redirect_uri": {"https://spa.example.com/cb"}, "client_id": {spa}}})
	rt, _ := body["refresh_token"].(string)
	if resp.StatusCode != http.StatusOK || rt == "" {
		t.Fatalf("code exchange: %d %v", resp.StatusCode, body)
	}
	refresh := func() (*http.Response, map[string]any) {
		return testenv.Do(t, h, testenv.Call{Path: "/oauth/token",
			Form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {spa}}})
	}

	failing.Store(true)
	resp, body = refresh()
	if resp.StatusCode != http.StatusServiceUnavailable || body["error"] != "temporarily_unavailable" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("refresh with a failing signer: %d %v Retry-After=%q, want 503 temporarily_unavailable with Retry-After",
			resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	if _, ok := body["access_token"]; ok {
		t.Fatal("a failed refresh returned an access token")
	}

	// The retry comes well after the reuse grace: a marked token would now
	// count as stolen and revoke the family.
	failing.Store(false)
	now = now.Add(time.Minute)
	resp, body = refresh()
	next, _ := body["refresh_token"].(string)
	if resp.StatusCode != http.StatusOK || body["access_token"] == nil || next == "" || next == rt {
		t.Fatalf("retry of the same refresh token: %d %v, want new tokens", resp.StatusCode, body)
	}
	// The family is intact: its new refresh token works too.
	rt = next
	if resp, body = refresh(); resp.StatusCode != http.StatusOK {
		t.Fatalf("the successor refresh token: %d %v", resp.StatusCode, body)
	}
	fam, err := st.Stage.Store.GetRefreshToken(context.Background(), domain.HashSecret(next), now)
	if err != nil || fam.FamilyID == "" {
		t.Fatalf("successor token: %+v %v", fam, err)
	}
}

package token_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"orgauth/pkg/domain"
	"orgauth/pkg/storage"
	"orgauth/test/testenv"
)

// recordHook runs hook, once, before the next RecordCodeIssue: a replay
// then lands between a code's redemption and the record of what it issues.
type recordHook struct {
	storage.Store
	mu   sync.Mutex
	hook func()
}

func (r *recordHook) RecordCodeIssue(ctx context.Context, hash []byte, familyID string, jtis []string) error {
	r.mu.Lock()
	hook := r.hook
	r.hook = nil
	r.mu.Unlock()
	if hook != nil {
		hook()
	}
	return r.Store.RecordCodeIssue(ctx, hash, familyID, jtis)
}

// A replay between the redemption and its record used to find nothing to
// revoke, while the first redemption went on to issue valid tokens.
func TestCodeReplayBeforeRecord(t *testing.T) {
	e := newRacingEnv(t)
	hooked := &recordHook{Store: e.st}
	e.h = newHandler(t, hooked, e.keys, func() time.Time { return e.now }, e.cfg).Routes()
	var replay map[string]any
	hooked.hook = func() { _, replay = e.exchange(t) }
	resp, first := e.exchange(t)
	if replay["error"] != "invalid_grant" {
		t.Fatalf("replay: %v", replay)
	}
	if resp.StatusCode != 400 || first["error"] != "invalid_grant" || first["access_token"] != nil {
		t.Fatalf("the first redemption issued after a replay it raced: %d %v", resp.StatusCode, first)
	}
}

// Real concurrency: two redemptions of one code race, many times; whatever
// the interleaving, no tokens stay valid: the loser's replay revokes them,
// or the winner issues none.
func TestCodeReplayConcurrent(t *testing.T) {
	ctx := context.Background()
	e := newRacingEnv(t)
	sum := sha256.Sum256([]byte(racingVerifier))
	for round := range 30 {
		raw, hash := domain.NewSecret()
		if err := e.st.CreateCode(ctx, domain.AuthorizationCode{
			Hash: hash, ClientID: "spa", UserID: "u", OrganizationID: "org", RedirectURI: "https://a.example/cb",
			CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]), Scopes: []string{"openid", "offline_access"},
			Audience: audience, ExpiresAt: e.now.Add(time.Minute),
		}); err != nil {
			t.Fatal(err)
		}
		e.code = raw
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		bodies := make([]map[string]any, 2)
		start := make(chan struct{})
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				var resp *http.Response
				resp, bodies[i] = e.exchange(t)
				statuses[i] = resp.StatusCode
			}()
		}
		close(start)
		wg.Wait()
		for i, body := range bodies {
			if statuses[i] == 400 {
				continue
			}
			if statuses[i] != 200 {
				t.Fatalf("round %d: %d %v", round, statuses[i], body)
			}
			// The winner's access token is revoked, its refresh token dead.
			at, _ := body["access_token"].(string)
			tok, err := josejwt.ParseSigned(at, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
			if err != nil {
				t.Fatal(err)
			}
			var claims josejwt.Claims
			if err := tok.UnsafeClaimsWithoutVerification(&claims); err != nil {
				t.Fatal(err)
			}
			if revoked, _ := e.st.IsJTIRevoked(ctx, claims.ID, e.now); !revoked {
				t.Fatalf("round %d: the winner's access token %s is not revoked after a racing replay", round, claims.ID)
			}
			if rt, _ := body["refresh_token"].(string); rt != "" {
				resp, refreshed := testenv.Do(t, e.h, testenv.Call{Path: "/oauth/token", Form: url.Values{
					"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"spa"}}})
				if resp.StatusCode != 400 || refreshed["error"] != "invalid_grant" {
					t.Fatalf("round %d: the winner's refresh token works after a racing replay: %d %v", round, resp.StatusCode, refreshed)
				}
			}
		}
		if statuses[0] == 200 && statuses[1] == 200 {
			t.Fatalf("round %d: both redemptions succeeded", round)
		}
	}
}

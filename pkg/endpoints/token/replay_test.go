package token_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/endpoints/token"
	"orgauth/pkg/jwt"
	"orgauth/pkg/storage"
	"orgauth/pkg/testkit/jwttest"
	"orgauth/test/testenv"
)

// racingFlows runs a hook before the first CreateRefreshFamily, to put a
// replay between a code's redemption and the family's creation.
type racingFlows struct {
	storage.Store
	before        func()
	beforeRefresh func() // before the next CreateRefreshToken
}

func (r *racingFlows) CreateRefreshToken(ctx context.Context, rt domain.RefreshToken) error {
	if hook := r.beforeRefresh; hook != nil {
		r.beforeRefresh = nil
		hook()
	}
	return r.Store.CreateRefreshToken(ctx, rt)
}

func (r *racingFlows) CreateRefreshFamily(ctx context.Context, f domain.RefreshFamily) error {
	if hook := r.before; hook != nil {
		r.before = nil
		hook()
	}
	return r.Store.CreateRefreshFamily(ctx, f)
}

// racingEnv is the token endpoint on the in-memory store with racingFlows,
// an SPA, its user, and one code of theirs (raw, its hash) for the verifier.
type racingEnv struct {
	st    storage.Store
	flows *racingFlows
	h     http.Handler
	now   time.Time
	code  string
	hash  []byte
	keys  jwt.KeySet
	cfg   token.Config
}

const racingVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

func newRacingEnv(t *testing.T) *racingEnv {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st := testenv.MemoryStore()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.CreateOrganization(ctx, domain.Organization{ID: "org", Plan: domain.PlanTeam}))
	must(st.CreateApplication(ctx, domain.Application{ClientID: "spa", OrganizationID: "org", Type: domain.ClientSPA}))
	must(st.CreateUser(ctx, domain.User{ID: "u", OrganizationID: "org", Email: "u@example.com"}))
	sum := sha256.Sum256([]byte(racingVerifier))
	raw, hash := domain.NewSecret()
	must(st.CreateCode(ctx, domain.AuthorizationCode{
		Hash: hash, ClientID: "spa", UserID: "u", OrganizationID: "org", RedirectURI: "https://a.example/cb",
		CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]), Scopes: []string{"openid", "offline_access"},
		Audience: audience, ExpiresAt: now.Add(time.Minute),
	}))
	flows := &racingFlows{Store: st}
	keys := jwttest.NewKeySet()
	cfg := token.Config{Issuer: issuer, Audiences: []string{audience}, RefreshTokenLifetime: time.Hour, RefreshIdleTimeout: time.Hour}
	h := newHandler(t, flows, keys, clock, cfg).Routes()
	return &racingEnv{st: st, flows: flows, h: h, now: now, code: raw, hash: hash, keys: keys, cfg: cfg}
}

// exchange redeems the environment's code.
func (e *racingEnv) exchange(t *testing.T) (*http.Response, map[string]any) {
	return testenv.Do(t, e.h, testenv.Call{Path: "/oauth/token", Form: url.Values{
		"grant_type": {"authorization_code"}, "code": {e.code}, "code_verifier": {racingVerifier},
		"redirect_uri": {"https://a.example/cb"}, "client_id": {"spa"},
	}})
}

// A replay that arrives while the first redemption is still issuing leaves
// the first redemption with no refresh token and a revoked access token id.
func TestCodeReplayRacingTheFirstRedemption(t *testing.T) {
	ctx := context.Background()
	e := newRacingEnv(t)
	st, now := e.st, e.now
	var replay map[string]any
	e.flows.before = func() { _, replay = e.exchange(t) }
	resp, first := e.exchange(t)
	if replay["error"] != "invalid_grant" {
		t.Fatalf("replay: %v", replay)
	}
	if resp.StatusCode != 400 || first["error"] != "invalid_grant" {
		t.Fatalf("first redemption after a racing replay: %d %v", resp.StatusCode, first)
	}
	code, err := st.RedeemCode(ctx, e.hash, now)
	if err == nil || len(code.IssuedAccessJTIs) != 1 {
		t.Fatalf("code %+v %v", code, err)
	}
	if ok, _ := st.IsJTIRevoked(ctx, code.IssuedAccessJTIs[0], now); !ok {
		t.Fatal("the recorded access token id is not revoked")
	}
	fam, err := st.GetRefreshFamily(ctx, code.IssuedFamilyID, now)
	if err != nil || !fam.Revoked {
		t.Fatalf("family %+v %v", fam, err)
	}
}

// A revocation of the family that completes while a refresh is issuing
// (after the refresh read the family, before it stored its new token) leaves
// the refresh with nothing: invalid_grant, and its access token revoked.
func TestRefreshRacingFamilyRevocation(t *testing.T) {
	ctx := context.Background()
	e := newRacingEnv(t)
	st, flows, h, now := e.st, e.flows, e.h, e.now
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	resp, first := e.exchange(t)
	rt, _ := first["refresh_token"].(string)
	if resp.StatusCode != 200 || rt == "" {
		t.Fatalf("code exchange: %d %v", resp.StatusCode, first)
	}
	flows.beforeRefresh = func() {
		if resp, body := testenv.Do(t, h, testenv.Call{Path: "/oauth/revoke", Form: url.Values{"token": {rt}, "client_id": {"spa"}}}); resp.StatusCode != 200 {
			t.Errorf("revoke: %d %v", resp.StatusCode, body)
		}
	}
	resp, body := testenv.Do(t, h, testenv.Call{Path: "/oauth/token", Form: url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"spa"}}})
	if resp.StatusCode != 400 || body["error"] != "invalid_grant" || body["access_token"] != nil {
		t.Fatalf("refresh racing a revocation: %d %v", resp.StatusCode, body)
	}
	old, err := st.GetRefreshToken(ctx, domain.HashSecret(rt), now)
	must(err)
	all, err := st.ListRefreshTokens(ctx, old.FamilyID)
	must(err)
	if len(all) != 2 {
		t.Fatalf("family holds %d tokens, want the first and the racing one", len(all))
	}
	for _, tok := range all {
		if revoked, _ := st.IsJTIRevoked(ctx, tok.AccessTokenID, now); !revoked {
			t.Errorf("access token %s of the revoked family is not revoked", tok.AccessTokenID)
		}
	}
}

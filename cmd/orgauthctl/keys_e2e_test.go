package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"orgauth/pkg/jwt"
	"orgauth/pkg/keys"
	"orgauth/pkg/keys/kmskeys"
	"orgauth/pkg/storage/dynamo"
	"orgauth/pkg/testkit/emulator"
	"orgauth/pkg/testkit/jwttest"
)

type keysListView struct {
	Keys    []keyView  `json:"keys"`
	Version int64      `json:"version"`
	Stored  bool       `json:"stored"`
	Next    stepView   `json:"next_step"`
	Policy  policyView `json:"policy"`
}

// waitUntil sleeps until t (plus a little, for clocks that round).
func waitUntil(t *testing.T, at *time.Time) {
	t.Helper()
	if at == nil {
		t.Fatal("no due time")
	}
	time.Sleep(time.Until(*at) + 50*time.Millisecond)
}

// TestKeysRotateEndToEnd runs a whole rotation through the orgauthctl binary
// against dynalite and local-kms, with short bounds, while a warm signer and
// a warm JWKS (the functions' rotating key sets) follow it.
func TestKeysRotateEndToEnd(t *testing.T) {
	const tableName = "orgauthctl-keys"
	ddb, kmsp, db, kc := startEmulators(t, tableName)
	st := dynamo.New(db, tableName)
	ctx := t.Context()
	k1, err := kmskeys.EnsureKey(ctx, kc, "alias/orgauth-test-signing", kmskeys.SpecRSA2048)
	if err != nil {
		t.Fatal(err)
	}
	k1Info, err := kmskeys.CheckSigningKey(ctx, kc, k1)
	if err != nil {
		t.Fatal(err)
	}

	bin := ctlBinary(t)
	// Bounds of a stack with a 1 s max-age and refresh and 2 s tokens:
	// promotion 2 s after publication, retirement 3 s after promotion.
	// Tokens of 2 s are below the safe minimum (applications' 24 h), so
	// every rotation says --unsafe-skip-waits, and is audited.
	base := keysEnviron("DYNAMODB_ENDPOINT="+ddb.Endpoint, "TABLE_NAME="+tableName, "KMS_ENDPOINT="+kmsp.Endpoint,
		"JWKS_MAX_AGE=1s", "KEYSET_REFRESH=1s", "MAX_TOKEN_LIFETIME=2s", "CLOCK_SKEW=0s", "KEY_ACCESS_DELAY=0s")
	var audit []string
	c := ctl{t: t, bin: bin, audit: &audit, vars: append(slices.Clone(base), "ORGAUTH_STAGE=test", "SIGNING_KEY_IDS=alias/orgauth-test-signing")}
	defer func() {
		// Each step of the rotation is in the audit trail.
		for _, want := range []string{"signing_key_publish", "signing_key_promote", "signing_key_retire", "signing_key_unsafe_waits"} {
			if !slices.Contains(audit, want) {
				t.Errorf("no %s audit line among %v", want, audit)
			}
		}
	}()

	// The functions: a warm signer and a warm JWKS on the same table.
	const refresh = time.Second
	newKS := func() *kmskeys.KeySet {
		ks, err := kmskeys.NewRotatingKeySet(kc, st, []string{k1}, kmskeys.RotatingOptions{Refresh: refresh})
		if err != nil {
			t.Fatal(err)
		}
		return ks
	}
	signer, jwks := newKS(), newKS()
	issue := func() (string, string) {
		t.Helper()
		iss := jwt.NewIssuer("https://auth.example.com", signer, nil, nil)
		raw, _, err := iss.AccessToken(ctx, jwt.AccessRequest{Subject: "c", ClientID: "c", OrgID: "o", Audience: "api", Lifetime: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		k, _ := signer.Active(ctx)
		return raw, k.Public().KeyID
	}
	verify := func(raw string) error {
		_, err := jwt.NewVerifier("https://auth.example.com", jwks, nil).VerifyAccessToken(ctx, raw, "api")
		return err
	}
	kids := func() []string {
		set, err := jwks.Published(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range set.Keys {
			out = append(out, k.KeyID)
		}
		return out
	}
	before, kid := issue()
	if kid != k1Info.Kid || verify(before) != nil {
		t.Fatalf("before the rotation: kid %s, verify %v", kid, verify(before))
	}

	// Nothing stored yet: list shows the static key, and says to publish.
	var list keysListView
	c.okJSON(&list, "", "keys", "list")
	if list.Stored || len(list.Keys) != 1 || list.Keys[0].KeyID != k1Info.ARN || list.Keys[0].State != "active" ||
		list.Keys[0].Kid != k1Info.Kid || list.Next.Action != "publish" || list.Policy.PromoteDelay != "2s" {
		t.Fatalf("list before rotation: %+v", list)
	}

	// Step 1.
	var res rotateResult
	c.okJSON(&res, "", "keys", "rotate", "--unsafe-skip-waits", "--spec", "ECC_NIST_P256",
		"--token-role-arn", "arn:aws:iam::111122223333:role/orgauth-test-token/*", "--break-glass-role-arn", "arn:aws:iam::111122223333:role/orgauth-test-break-glass")
	if res.Action != "publish" || res.Kid == "" || !strings.HasPrefix(res.KeyID, "arn:") || res.Next.Action != "wait" || res.Next.KeyID != res.KeyID {
		t.Fatalf("step 1: %+v", res)
	}
	k2, kid2, promoteAt := res.KeyID, res.Kid, res.Next.DueAt
	t.Logf("step 1:\n%s", res.Message)
	if !strings.Contains(res.Message, "Stored the key set") || !strings.Contains(res.Message, "signs nothing yet") {
		t.Fatalf("step 1 message: %s", res.Message)
	}
	stored, err := st.GetKeySet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := stored.Find(k2); got.State != keys.Upcoming || got.Spec != "ECC_NIST_P256" {
		t.Fatalf("stored %+v", stored)
	}

	// Promotion cannot be forced: not right away, and not by passing
	// smaller bounds now (the one stored at publication is a floor).
	out := c.ok("", "keys", "rotate", "--unsafe-skip-waits")
	t.Logf("early rotate:\n%s", out)
	if !strings.Contains(out, "Nothing is due yet") || !strings.Contains(out, "cannot be forced") {
		t.Fatalf("early rotate printed:\n%s", out)
	}
	c.okJSON(&res, "", "keys", "rotate", "--unsafe-skip-waits", "--jwks-max-age", "0s", "--refresh", "1ms", "--clock-skew", "0s", "--key-access", "0s")
	if res.Action != "wait" {
		t.Fatalf("smaller bounds promoted early: %+v", res)
	}
	if now := time.Now(); now.After(*promoteAt) {
		t.Fatalf("the test was too slow to check the bound (now %v, due %v)", now, promoteAt)
	}

	// The warm JWKS publishes k2 within one refresh; the signer still signs
	// with k1.
	time.Sleep(refresh + 50*time.Millisecond)
	if got := kids(); !slices.Equal(got, []string{k1Info.Kid, kid2}) {
		t.Fatalf("JWKS after publication: %v", got)
	}
	if _, kid := issue(); kid != k1Info.Kid {
		t.Fatalf("the upcoming key signed (%s)", kid)
	}

	// Step 2.
	waitUntil(t, promoteAt)
	// With a JWKS that does not serve k2 yet, promotion is refused.
	stale := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}))
	defer stale.Close()
	c.fails(1, "does not serve kid "+kid2+" yet: not promoting", "", "keys", "rotate", "--unsafe-skip-waits", "--jwks-url", stale.URL)
	// With one that serves k2's kid but another public key under it, the
	// canary token signed with k2 does not verify: refused, set unchanged.
	impostor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		set, err := jwks.Published(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		for i := range set.Keys {
			if set.Keys[i].KeyID == kid2 {
				set.Keys[i] = jwttest.NewKeySet().Public()
				set.Keys[i].KeyID = kid2
			}
		}
		_ = json.NewEncoder(w).Encode(set)
	}))
	defer impostor.Close()
	c.fails(1, "a canary token it signed does not verify against the published JWKS", "", "keys", "rotate", "--unsafe-skip-waits", "--jwks-url", impostor.URL)
	if got, _ := st.GetKeySet(ctx); got.Entries[0].KeyID != k1Info.ARN {
		t.Fatalf("a refused canary changed the set: %+v", got)
	}
	// With one that does (what the wellknown function would serve), it goes ahead.
	live := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		set, err := jwks.Published(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		_ = json.NewEncoder(w).Encode(set)
	}))
	defer live.Close()
	c.okJSON(&res, "", "keys", "rotate", "--unsafe-skip-waits", "--jwks-url", live.URL)
	if res.Action != "promote" || res.KeyID != k2 || res.Canary != "jwks" || res.Next.Action != "wait" || res.Next.KeyID != k1Info.ARN {
		t.Fatalf("step 2: %+v", res)
	}
	retireAt := res.Next.DueAt
	t.Logf("step 2:\n%s", res.Message)
	time.Sleep(refresh + 50*time.Millisecond)
	during, kid := issue()
	if kid != kid2 {
		t.Fatalf("one refresh after promotion the signer uses %s, want k2", kid)
	}
	if err := verify(before); err != nil {
		t.Fatalf("token from before the rotation, during the overlap: %v", err)
	}
	if err := verify(during); err != nil {
		t.Fatalf("token from during the overlap: %v", err)
	}
	c.okJSON(&res, "", "keys", "rotate", "--unsafe-skip-waits")
	if res.Action != "wait" || res.KeyID != k1Info.ARN {
		t.Fatalf("early retire: %+v", res)
	}

	// Step 3.
	waitUntil(t, retireAt)
	c.okJSON(&res, "", "keys", "rotate", "--unsafe-skip-waits")
	if res.Action != "retire" || res.KeyID != k1Info.ARN || !res.StackKey || res.Next.Action != "publish" {
		t.Fatalf("step 3: %+v", res)
	}
	t.Logf("step 3:\n%s", res.Message)
	// k1 is the stack's own key (SIGNING_KEY_IDS): out of the JWKS, but
	// not deleted, since the stack's alias and fallback still name it.
	info, err := kmskeys.DescribeSigningKey(ctx, kc, k1)
	if err != nil || info.State != "Enabled" || !strings.Contains(res.Message, "not scheduled for deletion") {
		t.Fatalf("k1 after retirement: %+v %v", info, err)
	}
	time.Sleep(refresh + 50*time.Millisecond)
	if got := kids(); !slices.Equal(got, []string{kid2}) {
		t.Fatalf("JWKS after retirement: %v", got)
	}
	if err := verify(before); !errors.Is(err, jwt.ErrInvalidToken) {
		t.Fatalf("k1 token after its key left the JWKS: %v", err)
	}
	if err := verify(during); err != nil {
		t.Fatalf("k2 token after retirement: %v", err)
	}
	// A cold function after the retirement never asks KMS for k1.
	if _, err := newKS().Published(ctx); err != nil {
		t.Fatalf("cold start after retirement: %v", err)
	}

	c.okJSON(&list, "", "keys", "list")
	if !list.Stored || len(list.Keys) != 2 || list.Keys[0].KeyID != k2 || list.Keys[0].State != "active" ||
		list.Keys[1].State != "retired" || list.Keys[1].DeletionDate != nil || list.Next.Action != "publish" {
		t.Fatalf("list after rotation: %+v", list)
	}
	out = c.ok("", "keys", "list")
	t.Logf("keys list:\n%s", out)
	if !strings.Contains(out, "STATE") || !strings.Contains(out, "the stack's key, kept") || !strings.Contains(out, kid2) {
		t.Fatalf("keys list printed:\n%s", out)
	}

	// Rolling back an upcoming key.
	c.fails(1, "there is no upcoming key to withdraw", "", "keys", "withdraw")
	c.okJSON(&res, "", "keys", "rotate", "--unsafe-skip-waits")
	k3 := res.KeyID
	c.okJSON(&res, "", "keys", "withdraw")
	if res.Action != "withdraw" || res.KeyID != k3 || res.Next.Action != "publish" {
		t.Fatalf("withdraw: %+v", res)
	}
	if info, err := kmskeys.DescribeSigningKey(ctx, kc, k3); err != nil || info.State != "PendingDeletion" {
		t.Fatalf("withdrawn key: %+v %v", info, err)
	}

	// Errors: one line, non-zero exit.
	c.fails(2, "--spec must be RSA_2048 or ECC_NIST_P256", "", "keys", "rotate", "--unsafe-skip-waits", "--spec", "RSA_4096")
	down := ctl{t: t, bin: bin, vars: append(slices.Clone(base), "KMS_ENDPOINT=http://127.0.0.1:1")}
	down.fails(1, "cannot reach KMS at http://127.0.0.1:1", "", "keys", "list")
	fresh := "orgauthctl-keys-fresh"
	if err := dynamo.CreateTable(ctx, db, fresh); err != nil {
		t.Fatal(err)
	}
	nokeys := ctl{t: t, bin: bin, vars: append(slices.Clone(base), "TABLE_NAME="+fresh)}
	nokeys.fails(2, "no key set is stored yet: pass --from-keys", "", "keys", "rotate", "--unsafe-skip-waits")
	nostage := ctl{t: t, bin: bin, vars: append(slices.Clone(base), "TABLE_NAME="+fresh, "SIGNING_KEY_IDS="+k2)}
	nostage.fails(2, "--stage is required", "", "keys", "rotate", "--unsafe-skip-waits")

	// local.json from make run: the KMS endpoint and the current keys come
	// from there, and new keys are tagged for the local stage.
	dataDir := t.TempDir()
	local := fmt.Sprintf(`{"table":%q,"dynamodb_endpoint":%q,"kms_endpoint":%q,"signing_key_ids":%q}`, fresh, ddb.Endpoint, kmsp.Endpoint, k2)
	if err := os.WriteFile(filepath.Join(dataDir, "local.json"), []byte(local), 0o600); err != nil {
		t.Fatal(err)
	}
	fromLocal := ctl{t: t, bin: bin, vars: keysEnviron("ORGAUTH_DATA_DIR=" + dataDir)}
	fromLocal.okJSON(&res, "", "keys", "rotate")
	if res.Action != "publish" {
		t.Fatalf("rotate through local.json: %+v", res)
	}
	tags, err := kc.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: aws.String(res.KeyID)})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].TagValue) != "local" {
		t.Fatalf("tags of a key created through local.json: %+v %v", tags, err)
	}
}

// keysEnviron is environ without the variables the keys commands read.
func keysEnviron(extra ...string) []string {
	out := slices.DeleteFunc(environ(), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "KMS_ENDPOINT", "SIGNING_KEY_IDS", "ORGAUTH_STAGE", "JWKS_MAX_AGE", "KEYSET_REFRESH", "MAX_TOKEN_LIFETIME", "CLOCK_SKEW", "KEY_ACCESS_DELAY", "JWKS_URL":
			return true
		}
		return false
	})
	return append(out, extra...)
}

// TestKeysBadBound: a malformed bound in the environment is a usage error.
func TestKeysBadBound(t *testing.T) {
	_, stderr, code := runInProcess(t, "", false, map[string]string{"JWKS_MAX_AGE": "soon", "TABLE_NAME": "t"}, "keys", "list")
	if code != 2 || !strings.Contains(stderr, "JWKS_MAX_AGE: want a duration") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = runInProcess(t, "", false, map[string]string{"TABLE_NAME": "t"}, "keys", "rotate", "--refresh", "0s")
	if code != 2 || !strings.Contains(stderr, "refresh interval must be positive") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

// TestKeysRefusesUnsafeWaits: bounds below what the stage's settings need
// act as a silent force, so they are refused unless --unsafe-skip-waits.
func TestKeysRefusesUnsafeWaits(t *testing.T) {
	env := map[string]string{"TABLE_NAME": "t", "AWS_REGION": "us-east-1"}
	for _, c := range []struct {
		args []string
		env  map[string]string
		want []string
	}{
		{[]string{"--key-access", "0s", "--jwks-max-age", "0s"}, nil, []string{"key-access 0s < 5m0s", "jwks-max-age 0s < 5m0s"}},
		{[]string{"--refresh", "1s", "--max-token-lifetime", "1h"}, nil, []string{"refresh 1s < 1m0s", "max-token-lifetime 1h0m0s < 24h0m0s"}},
		{[]string{"--jwks-max-age", "5m"}, map[string]string{"JWKS_MAX_AGE": "10m"}, []string{"jwks-max-age 5m0s < 10m0s"}},
	} {
		e := maps.Clone(env)
		maps.Copy(e, c.env)
		_, stderr, code := runInProcess(t, "", false, e, append([]string{"keys", "rotate"}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, "--unsafe-skip-waits") {
			t.Fatalf("%v: exit %d, stderr %q", c.args, code, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q lacks %q", c.args, stderr, w)
			}
		}
	}
}

// startEmulators starts dynalite and local-kms for a test, with tableName
// created, and returns them with their clients.
func startEmulators(t *testing.T, tableName string) (ddb, kmsp *emulator.Process, db *dynamodb.Client, kc *kms.Client) {
	t.Helper()
	ddb = emulator.StartForTest(t, emulator.StartDynalite)
	kmsp = emulator.StartForTest(t, emulator.StartKMS)
	db = dynamo.NewLocalClient(ddb.Endpoint)
	if err := dynamo.CreateTable(t.Context(), db, tableName); err != nil {
		t.Fatal(err)
	}
	return ddb, kmsp, db, kmskeys.NewLocalClient(kmsp.Endpoint)
}

// TestKeysRevokeCompromised runs the emergency command through the
// orgauthctl binary against dynalite and local-kms, while a warm signer and
// a warm JWKS follow the key set: the compromised key leaves the JWKS at
// once, the next key signs, and the compromised key can no longer sign.
func TestKeysRevokeCompromised(t *testing.T) {
	const tableName = "orgauthctl-revoke"
	ddb, kmsp, db, kc := startEmulators(t, tableName)
	st := dynamo.New(db, tableName)
	ctx := t.Context()
	k1, err := kmskeys.EnsureKey(ctx, kc, "alias/orgauth-revoke-signing", kmskeys.SpecRSA2048)
	if err != nil {
		t.Fatal(err)
	}
	k1Info, err := kmskeys.CheckSigningKey(ctx, kc, k1)
	if err != nil {
		t.Fatal(err)
	}
	bin := ctlBinary(t)
	var audit []string
	c := ctl{t: t, bin: bin, audit: &audit, vars: keysEnviron("DYNAMODB_ENDPOINT="+ddb.Endpoint, "TABLE_NAME="+tableName,
		"KMS_ENDPOINT="+kmsp.Endpoint, "JWKS_MAX_AGE=1s", "KEYSET_REFRESH=1s", "MAX_TOKEN_LIFETIME=2s", "CLOCK_SKEW=0s",
		"KEY_ACCESS_DELAY=0s", "ORGAUTH_STAGE=test", "SIGNING_KEY_IDS=alias/orgauth-revoke-signing")}

	const refresh = time.Second
	newKS := func() *kmskeys.KeySet {
		ks, err := kmskeys.NewRotatingKeySet(kc, st, []string{k1}, kmskeys.RotatingOptions{Refresh: refresh})
		if err != nil {
			t.Fatal(err)
		}
		return ks
	}
	signer, jwks := newKS(), newKS()
	issue := func() (string, string) {
		t.Helper()
		raw, _, err := jwt.NewIssuer("https://auth.example.com", signer, nil, nil).AccessToken(ctx,
			jwt.AccessRequest{Subject: "c", ClientID: "c", OrgID: "o", Audience: "api", Lifetime: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		k, _ := signer.Active(ctx)
		return raw, k.Public().KeyID
	}
	verify := func(raw string) error {
		_, err := jwt.NewVerifier("https://auth.example.com", jwks, nil).VerifyAccessToken(ctx, raw, "api")
		return err
	}
	stolen, _ := issue()
	if err := verify(stolen); err != nil {
		t.Fatal(err)
	}

	// Before any rotation, a new SigningKeySpec would swap the stack's key
	// with no pre-publication: check-spec refuses it.
	c.fails(1, "refusing: no rotation has stored the key set yet", "", "keys", "check-spec", "--spec", "ECC_NIST_P256")
	if out := c.ok("", "keys", "check-spec", "--spec", "RSA_2048"); !strings.Contains(out, "unchanged") {
		t.Fatalf("check-spec, same spec: %s", out)
	}

	// Only for a compromised key, and only a key of the set.
	c.fails(2, "needs --compromised", "", "keys", "revoke", "--key", k1Info.Kid)
	c.fails(1, "is not a key of the stage's key set", "", "keys", "revoke", "--compromised", "--key", "no-such-kid")

	// The stack's own key, before any rotation, with no other key: a new
	// key is created and signs at once; the old one is disabled, not
	// deleted (the stack names it).
	var res rotateResult
	c.okJSON(&res, "", "keys", "revoke", "--compromised", "--key", k1Info.Kid)
	t.Logf("revoke:\n%s", res.Message)
	if res.Action != "revoke" || res.KeyID != k1Info.ARN || res.Promoted == "" || !res.StackKey || res.Next.Action != "publish" ||
		!strings.Contains(res.Message, "created") {
		t.Fatalf("revoke: %+v", res)
	}
	k2 := res.Promoted
	if info, err := kmskeys.DescribeSigningKey(ctx, kc, k1); err != nil || info.State != "Disabled" {
		t.Fatalf("compromised stack key: %+v %v", info, err)
	}
	time.Sleep(refresh + 50*time.Millisecond)
	if err := verify(stolen); !errors.Is(err, jwt.ErrInvalidToken) {
		t.Fatalf("a token of the compromised key after the revoke: %v", err)
	}
	fresh, kid := issue()
	if k2Info, _ := kmskeys.DescribeSigningKey(ctx, kc, k2); kid != k2Info.Kid || verify(fresh) != nil {
		t.Fatalf("after the revoke the signer uses %s (want %s), verify %v", kid, k2Info.Kid, verify(fresh))
	}

	// Once the set is stored, the stack's key is only a fallback.
	if out := c.ok("", "keys", "check-spec", "--spec", "ECC_NIST_P256"); !strings.Contains(out, "Safe to deploy") {
		t.Fatalf("check-spec after the set is stored: %s", out)
	}

	// A key a rotation created, with an upcoming key published: the
	// upcoming key takes over at once, and the compromised key is
	// scheduled for deletion, so KMS no longer signs with it.
	c.okJSON(&res, "", "keys", "rotate", "--unsafe-skip-waits")
	k3 := res.KeyID
	stolen, _ = issue()
	res = rotateResult{}
	c.okJSON(&res, "", "keys", "revoke", "--compromised", "--key", k2)
	if res.KeyID != k2 || res.Promoted != k3 || res.StackKey {
		t.Fatalf("second revoke: %+v", res)
	}
	if info, err := kmskeys.DescribeSigningKey(ctx, kc, k2); err != nil || info.State != "PendingDeletion" ||
		info.DeletionDate.After(time.Now().Add(8*24*time.Hour)) {
		t.Fatalf("compromised key: %+v %v", info, err)
	}
	time.Sleep(refresh + 50*time.Millisecond)
	if err := verify(stolen); !errors.Is(err, jwt.ErrInvalidToken) {
		t.Fatalf("a token of the second compromised key: %v", err)
	}
	var list keysListView
	c.okJSON(&list, "", "keys", "list")
	compromised := 0
	for _, k := range list.Keys {
		if k.Compromised {
			compromised++
		}
		if k.KeyID == k3 && k.State != "active" {
			t.Fatalf("k3 %+v", k)
		}
	}
	if compromised != 2 {
		t.Fatalf("list: %+v", list)
	}
	if n := slices.Index(audit, "signing_key_revoked"); n < 0 {
		t.Fatalf("no signing_key_revoked audit line among %v", audit)
	}
}

package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnv(t *testing.T) {
	c, err := FromEnv(env(map[string]string{
		"ISSUER": "http://127.0.0.1:3000/", "TABLE_NAME": "t", "SIGNING_KEY_IDS": "alias/a, alias/b,alias/a",
		"AUDIENCES": "https://api.example.com", "ACCESS_TOKEN_LIFETIME": "15m",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "http://127.0.0.1:3000/" || c.URL("/oauth/token") != "http://127.0.0.1:3000/oauth/token" || len(c.SigningKeyIDs) != 2 || c.AccessTokenLifetime != 15*time.Minute {
		t.Fatalf("%+v", c)
	}
	if got := c.TokenAudiences(); len(got) != 2 || got[1] != "orgauth:management" {
		t.Fatalf("TokenAudiences = %v", got)
	}
}

func TestFromEnvErrors(t *testing.T) {
	_, err := FromEnv(env(map[string]string{"ISSUER": "http://auth.example.com", "ACCESS_TOKEN_LIFETIME": "soon"}))
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{"ISSUER", "TABLE_NAME", "SIGNING_KEY_IDS", "ACCESS_TOKEN_LIFETIME"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
}

// ACCESS_TOKEN_LIFETIME is bounded: key rotation waits for the longest
// token, so the lifetime cannot be unbounded.
func TestAccessTokenLifetimeBounded(t *testing.T) {
	base := map[string]string{"ISSUER": "https://auth.example.com", "TABLE_NAME": "t", "SIGNING_KEY_IDS": "k"}
	for v, ok := range map[string]bool{"": true, "1m": true, "24h": true, "25h": false, "8760h": false, "0s": false, "30s": false} {
		e := map[string]string{"ACCESS_TOKEN_LIFETIME": v}
		for k, x := range base {
			e[k] = x
		}
		_, err := FromEnv(env(e))
		if (err == nil) != ok || (err != nil && !strings.Contains(err.Error(), "ACCESS_TOKEN_LIFETIME: must be 1m to 24h0m0s")) {
			t.Errorf("ACCESS_TOKEN_LIFETIME=%q: %v", v, err)
		}
	}
}

func TestCheckIssuer(t *testing.T) {
	for s, ok := range map[string]bool{
		"https://auth.example.com": true, "http://127.0.0.1:3000": true, "http://localhost:3000": true,
		"https://auth.example.com/": true, "https://auth.example.com//": false,
		"http://auth.example.com": false, "https://a.example.com?x=1": false, "https://u@a.example.com": false, "not a url": false,
	} {
		if err := CheckIssuer(s); (err == nil) != ok {
			t.Errorf("CheckIssuer(%q) = %v", s, err)
		}
	}
}

// The AWS deadlines default to a budget well under the function's 10 s
// timeout, and a zero deadline (which would wait forever) is refused.
func TestAWSDeadlines(t *testing.T) {
	base := map[string]string{"ISSUER": "https://auth.example.com", "TABLE_NAME": "t", "SIGNING_KEY_IDS": "alias/a"}
	c, err := FromEnv(env(base))
	if err != nil {
		t.Fatal(err)
	}
	if c.AWSAttemptTimeout <= 0 || c.AWSCallTimeout <= 0 || c.AWSCallTimeout > 5*time.Second || c.AWSMaxAttempts < 1 {
		t.Fatalf("defaults %+v", c)
	}
	if z := (Config{}).AWSDeadlines(); z.AWSCallTimeout != c.AWSCallTimeout || z.AWSMaxAttempts != c.AWSMaxAttempts {
		t.Errorf("AWSDeadlines on a zero Config: %+v", z)
	}
	for k, v := range map[string]string{"AWS_CALL_TIMEOUT": "0s", "AWS_MAX_ATTEMPTS": "0", "AWS_ATTEMPT_TIMEOUT": "soon"} {
		bad := map[string]string{k: v}
		for bk, bv := range base {
			bad[bk] = bv
		}
		if _, err := FromEnv(env(bad)); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: %v", k, v, err)
		}
	}
}

func TestTokenReuseSetting(t *testing.T) {
	base := map[string]string{"ISSUER": "https://auth.example.com", "TABLE_NAME": "t", "SIGNING_KEY_IDS": "k"}
	for v, want := range map[string]bool{"": true, "on": true, "off": false, "OFF": false} {
		base["TOKEN_REUSE"] = v
		c, err := FromEnv(env(base))
		if err != nil || c.TokenReuse != want {
			t.Errorf("TOKEN_REUSE=%q: %v, %v", v, c.TokenReuse, err)
		}
	}
	base["TOKEN_REUSE"] = "maybe"
	if _, err := FromEnv(env(base)); err == nil || !strings.Contains(err.Error(), "TOKEN_REUSE") {
		t.Errorf("TOKEN_REUSE=maybe: %v", err)
	}
}

func TestTokenQuotas(t *testing.T) {
	base := map[string]string{"ISSUER": "https://auth.example.com", "TABLE_NAME": "t", "SIGNING_KEY_IDS": "k",
		"TOKEN_QUOTAS": "enterprise_large=5000, team=10", "QUOTA_SHARDS": "4"}
	c, err := FromEnv(env(base))
	if err != nil {
		t.Fatal(err)
	}
	if c.TokenQuotas["enterprise_large"] != 5000 || c.TokenQuotas["team"] != 10 || c.TokenQuotas["enterprise_unlimited"] != 100_000_000 {
		t.Errorf("TokenQuotas = %v", c.TokenQuotas)
	}
	if c.QuotaShards != 4 || c.QuotaFlushTokens != 50 || c.QuotaFlushInterval != 10*time.Second {
		t.Errorf("shards %d, flush every %d tokens or %v", c.QuotaShards, c.QuotaFlushTokens, c.QuotaFlushInterval)
	}
	for k, v := range map[string]string{"TOKEN_QUOTAS": "gold=5", "QUOTA_SHARDS": "0", "QUOTA_FLUSH_TOKENS": "x"} {
		bad := map[string]string{"ISSUER": "https://auth.example.com", "TABLE_NAME": "t", "SIGNING_KEY_IDS": "k", k: v}
		if _, err := FromEnv(env(bad)); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: %v", k, v, err)
		}
	}
}

// The issuer is kept exactly as configured, and endpoints never get "//".
func TestIssuerKeptAsConfigured(t *testing.T) {
	for _, iss := range []string{"https://auth.example.com/", "https://auth.example.com"} {
		c, err := FromEnv(env(map[string]string{"ISSUER": iss, "TABLE_NAME": "t", "SIGNING_KEY_IDS": "k"}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Issuer != iss || c.URL("/authorize") != "https://auth.example.com/authorize" {
			t.Errorf("ISSUER=%s: issuer %q, authorize %q", iss, c.Issuer, c.URL("/authorize"))
		}
	}
}

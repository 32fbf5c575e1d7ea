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
	if c.Issuer != "http://127.0.0.1:3000" || len(c.SigningKeyIDs) != 2 || c.AccessTokenLifetime != 15*time.Minute {
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
		"http://auth.example.com": false, "https://a.example.com?x=1": false, "https://u@a.example.com": false, "not a url": false,
	} {
		if err := CheckIssuer(s); (err == nil) != ok {
			t.Errorf("CheckIssuer(%q) = %v", s, err)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "127.0.0.1": true, "127.1.2.3": true, "::1": true,
		"127.evil.example": false, "127.0.0.1.nip.io": false, "example.com": false, "10.0.0.1": false, "": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

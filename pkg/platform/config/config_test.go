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

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runInProcess runs a command line without a table behind it: enough for
// everything that fails before connecting.
func runInProcess(t *testing.T, stdin string, terminal bool, vars map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, env{
		stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut,
		getenv: func(k string) string { return vars[k] }, stdinIsTerminal: terminal, now: time.Now,
	})
	return out.String(), errOut.String(), code
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		terminal bool
		want     string
	}{
		{nil, false, "missing command"},
		{[]string{"frobnicate"}, false, `unknown command "frobnicate"`},
		{[]string{"orgs"}, false, "orgs: missing command (one of create, list, set-plan, set-quota)"},
		{[]string{"orgs", "delete"}, false, `orgs: unknown command "delete"`},
		{[]string{"orgs", "create", "--plan", "free"}, false, "--name is required"},
		{[]string{"orgs", "create", "--name", "x", "--bogus"}, false, "flag provided but not defined: -bogus"},
		{[]string{"orgs", "list", "extra"}, false, `unexpected argument "extra"`},
		{[]string{"orgs", "set-plan", "--org", "x"}, false, "--plan is required"},
		{[]string{"users", "create", "--org", "o"}, false, "--email is required"},
		{[]string{"users", "create", "--org", "o", "--email", "a@b.c"}, true, "pass --generate-password to have one generated, or --password-stdin"},
		{[]string{"users", "create", "--org", "o", "--email", "a@b.c", "--password-stdin", "--generate-password"}, false, "not both"},
		{[]string{"users", "list"}, false, "--org is required"},
		{[]string{"users", "disable"}, false, "--user is required"},
		{[]string{"apps", "list"}, false, "--org is required"},
		{[]string{"orgs", "list"}, false, "no table: set --table or TABLE_NAME"},
	} {
		vars := map[string]string{"ORGAUTH_DATA_DIR": t.TempDir()} // no local.json
		stdout, stderr, code := runInProcess(t, "", tc.terminal, vars, tc.args...)
		if code != 2 || stdout != "" {
			t.Errorf("%q: exit %d, stdout %q; want 2 and nothing", tc.args, code, stdout)
		}
		if !strings.HasPrefix(stderr, "orgauthctl: ") || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: stderr %q; want one line containing %q", tc.args, stderr, tc.want)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		stdout, stderr, code := runInProcess(t, "", false, nil, args...)
		if code != 0 || stderr != "" || !strings.Contains(stdout, "orgauthctl users create --org ID --email EMAIL") {
			t.Errorf("%q: exit %d, stderr %q, stdout %q", args, code, stderr, stdout)
		}
	}
	stdout, _, code := runInProcess(t, "", false, nil, "users", "create", "-h")
	if code != 0 || !strings.Contains(stdout, "-generate-password") || !strings.Contains(stdout, "-json") {
		t.Errorf("users create -h: exit %d, stdout %q", code, stdout)
	}
}

func TestResolveConnection(t *testing.T) {
	dir := t.TempDir()
	local := `{"issuer":"http://127.0.0.1:3000","audience":"x","organization_id":"o","m2m":{"client_id":"c","client_secret":"s"},` +
		`"table":"orgauth-local","dynamodb_endpoint":"http://127.0.0.1:8000","kms_endpoint":"http://127.0.0.1:4599",` +
		`"signing_key_ids":"alias/orgauth-local","future_key":[1,2]}`
	if err := os.WriteFile(filepath.Join(dir, "local.json"), []byte(local), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		flag string
		vars map[string]string
		want connection
	}{
		"local.json": {"", map[string]string{"ORGAUTH_DATA_DIR": dir},
			connection{table: "orgauth-local", endpoint: "http://127.0.0.1:8000", region: "us-east-1",
				kmsEndpoint: "http://127.0.0.1:4599", signingKeyIDs: "alias/orgauth-local", issuer: "http://127.0.0.1:3000", local: true}},
		"KMS_ENDPOINT wins over local.json": {"", map[string]string{"ORGAUTH_DATA_DIR": dir, "KMS_ENDPOINT": "http://127.0.0.1:7"},
			connection{table: "orgauth-local", endpoint: "http://127.0.0.1:8000", region: "us-east-1",
				kmsEndpoint: "http://127.0.0.1:7", signingKeyIDs: "alias/orgauth-local", issuer: "http://127.0.0.1:3000", local: true}},
		"TABLE_NAME wins over local.json": {"", map[string]string{"ORGAUTH_DATA_DIR": dir, "TABLE_NAME": "t", "AWS_REGION": "eu-west-1"},
			connection{table: "t", endpoint: "", region: "eu-west-1"}},
		"--table wins over TABLE_NAME": {"f", map[string]string{"ORGAUTH_DATA_DIR": dir, "TABLE_NAME": "t", "DYNAMODB_ENDPOINT": "http://127.0.0.1:9"},
			connection{table: "f", endpoint: "http://127.0.0.1:9", region: "us-east-1"}},
		"endpoint set: no local.json": {"", map[string]string{"ORGAUTH_DATA_DIR": dir, "DYNAMODB_ENDPOINT": "http://127.0.0.1:9", "TABLE_NAME": "t"},
			connection{table: "t", endpoint: "http://127.0.0.1:9", region: "us-east-1"}},
	} {
		got, err := resolveConnection(tc.flag, func(k string) string { return tc.vars[k] })
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v, %v; want %+v", name, got, err, tc.want)
		}
	}
	// An endpoint without a table does not fall back to local.json.
	if _, err := resolveConnection("", func(k string) string {
		return map[string]string{"ORGAUTH_DATA_DIR": dir, "DYNAMODB_ENDPOINT": "http://127.0.0.1:9"}[k]
	}); err == nil {
		t.Error("an endpoint without a table resolved")
	}
	// No local.json, nothing set.
	if _, err := resolveConnection("", func(k string) string {
		return map[string]string{"ORGAUTH_DATA_DIR": t.TempDir()}[k]
	}); err == nil || !strings.Contains(err.Error(), "no table") {
		t.Errorf("nothing set: %v", err)
	}
}

func TestReadPasswordLine(t *testing.T) {
	for in, want := range map[string]string{
		"pw\n":            "pw",
		"pw\r\n":          "pw",
		"pw":              "pw",
		"first\nsecond\n": "first",
		" spaced pw \n":   " spaced pw ",
	} {
		if got, err := readPasswordLine(strings.NewReader(in)); err != nil || got != want {
			t.Errorf("readPasswordLine(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "\n", strings.Repeat("x", maxPasswordLine+1)} {
		if _, err := readPasswordLine(strings.NewReader(in)); err == nil {
			t.Errorf("readPasswordLine(%d bytes) succeeded", len(in))
		}
	}
}

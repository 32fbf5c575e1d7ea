// Package sam tests the `sam local` development path as far as a machine
// without Docker and the SAM CLI can: the env file that make emulators
// generates, against template.yaml and the emulators it started, and what
// make sam-local runs.
package sam

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"orgauth"
	"orgauth/internal/samlocal"
	"orgauth/pkg/domain"
	"orgauth/pkg/platform/awsenv"
	"orgauth/pkg/platform/config"
	"orgauth/pkg/testkit/emulator"
	"orgauth/pkg/wiring"
	"orgauth/test/testenv"
)

// cleanShell is a shell that sets none of the functions' variables.
func cleanShell(string) (string, bool) { return "", false }

func TestEmulatorsEnvFile(t *testing.T) {
	port, err := emulator.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	em := testenv.StartEmulators(t, port)
	if strings.Contains(em.Output.String(), "orgauth is serving") {
		t.Fatalf("-emulators started the API server:\n%s", em.Output.String())
	}
	file, err := samlocal.Read(em.SAMEnvFile())
	if err != nil {
		t.Fatal(err)
	}
	fns, err := samlocal.Functions(orgauth.Template)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range fns {
		ids = append(ids, f.LogicalID)
	}
	for section := range file {
		if !slices.Contains(ids, section) {
			t.Errorf("section %q names no function of template.yaml", section)
		}
	}

	type endpoints struct{ dynamodb, kms, table string }
	seen := map[endpoints][]string{} // what each function would call, and the keys it names
	for _, f := range fns {
		sec, ok := file[f.LogicalID]
		if !ok {
			t.Errorf("no section for %s", f.LogicalID)
			continue
		}
		for _, name := range f.Names() {
			// Empty on purpose: there is no CloudFront in front of sam local.
			if v, ok := sec[name]; name == "ORIGIN_VERIFY_SHA256" && ok && v == "" {
				continue
			}
			if v, ok := sec[name]; !ok || v == "" {
				t.Errorf("%s reads %s (template.yaml declares it), which the file leaves out or empty", f.LogicalID, name)
			}
		}
		for name := range sec {
			if _, ok := f.Variables[name]; !ok {
				t.Errorf("%s: %s is in the file but not declared in template.yaml, so sam local would drop it", f.LogicalID, name)
			}
		}
		// What the function's config reads from the environment sam local
		// builds out of the file.
		env := samlocal.Resolve(f, file, cleanShell)
		cfg, err := config.FromEnv(func(k string) string { return env[k] })
		if err != nil {
			t.Errorf("%s: config: %v", f.LogicalID, err)
			continue
		}
		if cfg.Issuer != em.Issuer || cfg.DynamoDBEndpoint != em.File.DynamoDBEndpoint || cfg.KMSEndpoint != em.File.KMSEndpoint ||
			cfg.Table != em.File.Table || strings.Join(cfg.SigningKeyIDs, ",") != em.File.SigningKeyIDs || cfg.SSOKeyID != em.File.SSOKeyID {
			t.Errorf("%s: config %+v does not describe what was started (local.json %+v)", f.LogicalID, cfg, em.File)
		}
		// --docker-network host: the containers reach the host's loopback.
		for _, u := range []string{cfg.Issuer, cfg.DynamoDBEndpoint, cfg.KMSEndpoint} {
			if p, err := url.Parse(u); err != nil || !domain.IsLoopback(p.Hostname()) {
				t.Errorf("%s: %q is not on loopback", f.LogicalID, u)
			}
		}
		e := endpoints{cfg.DynamoDBEndpoint, cfg.KMSEndpoint, cfg.Table}
		seen[e] = append(seen[e], append(slices.Clone(cfg.SigningKeyIDs), cfg.SSOKeyID)...)
	}
	if want := "http://127.0.0.1:" + strconv.Itoa(port); em.File.Issuer != want {
		t.Errorf("issuer %q, want %q: sam local serves on SAM_PORT", em.File.Issuer, want)
	}

	// Every endpoint in the file answers: the table is there, and every key
	// the functions name is enabled.
	ctx := context.Background()
	for e, keys := range seen {
		boot := config.Config{Region: "us-east-1", DynamoDBEndpoint: e.dynamodb, KMSEndpoint: e.kms}
		awsCfg, err := awsenv.Load(ctx, boot)
		if err != nil {
			t.Fatal(err)
		}
		db, kmsClient := wiring.Clients(awsCfg, boot)
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(e.table)})
		if err != nil || out.Table == nil || out.Table.TableStatus != "ACTIVE" {
			t.Errorf("DynamoDB at %s, table %s: %v", e.dynamodb, e.table, err)
		}
		for _, k := range keys {
			d, err := kmsClient.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(k)})
			if err != nil || d.KeyMetadata == nil || d.KeyMetadata.KeyState != kmstypes.KeyStateEnabled {
				t.Errorf("KMS at %s, key %s: %v", e.kms, k, err)
			}
		}
	}
	if len(seen) != 1 {
		t.Errorf("the functions would use %d different sets of emulators: %v", len(seen), seen)
	}

	// make sam-local accepts this file for this port and runs sam with it.
	dir := fakeTools(t, true, true)
	stdout, stderr, err := makeSAMLocal(t, dir, em.Dir, port)
	if err != nil {
		t.Fatalf("make sam-local: %v\n%s%s", err, stdout, stderr)
	}
	calls := readCalls(t, dir)
	want := []string{"build", "local start-api --host 127.0.0.1 --port " + strconv.Itoa(port) + " --env-vars " + em.SAMEnvFile() +
		" --docker-network host --parameter-overrides Stage=dev"}
	if !slices.Equal(calls, want) {
		t.Fatalf("make sam-local ran sam %q, want %q", calls, want)
	}
}

// TestMakeSAMLocalRequirements: without the SAM CLI, Docker or the env file,
// make sam-local says in one line what to do, and fails.
func TestMakeSAMLocalRequirements(t *testing.T) {
	data := t.TempDir()
	cases := []struct {
		name             string
		sam, docker      bool
		daemon, envFile  bool
		port             int
		wantLineContains string
	}{
		{name: "no sam", wantLineContains: "the AWS SAM CLI is missing"},
		{name: "no docker", sam: true, wantLineContains: "Docker is missing"},
		{name: "no daemon", sam: true, docker: true, wantLineContains: "the Docker daemon does not answer"},
		{name: "no env file", sam: true, docker: true, daemon: true, wantLineContains: "run make emulators in another terminal first"},
		{name: "another port", sam: true, docker: true, daemon: true, envFile: true, port: 3002, wantLineContains: "is for another port"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.envFile {
				if err := os.WriteFile(filepath.Join(data, "sam-local-env.json"), []byte(`{"TokenFunction": {"ISSUER": "http://127.0.0.1:3001"}}`), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			dir := t.TempDir()
			if c.sam || c.docker {
				dir = fakeTools(t, c.sam, c.daemon)
				if !c.docker {
					os.Remove(filepath.Join(dir, "docker"))
				}
			}
			port := c.port
			if port == 0 {
				port = 3001
			}
			_, stderr, err := makeSAMLocal(t, dir, data, port)
			if err == nil {
				t.Fatal("make sam-local succeeded")
			}
			var lines []string
			for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if !makeTrailer.MatchString(l) {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 || !strings.Contains(lines[0], c.wantLineContains) {
				t.Fatalf("stderr = %q, want one line with %q", stderr, c.wantLineContains)
			}
			if calls := readCalls(t, dir); len(calls) != 0 {
				t.Fatalf("sam ran: %q", calls)
			}
		})
	}
}

// makeTrailer is make's own line after a failed recipe: "make: *** ...", or
// "make[1]: *** ..." under another make.
var makeTrailer = regexp.MustCompile(`^make(\[\d+\])?: \*\*\* `)

// fakeTools makes a directory with a `sam` that records its arguments in
// sam.calls and does nothing else, and a `docker` whose `info` answers when
// daemon is true.
func fakeTools(t *testing.T, sam, daemon bool) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, script string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if sam {
		write("sam", `echo "$*" >> "$(dirname "$0")/sam.calls"`+"\n")
	}
	status := "1"
	if daemon {
		status = "0"
	}
	write("docker", "exit "+status+"\n")
	return dir
}

func readCalls(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "sam.calls"))
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// makeSAMLocal runs make sam-local with tools first on PATH, and no other
// sam or docker.
func makeSAMLocal(t *testing.T, tools, dataDir string, port int) (string, string, error) {
	t.Helper()
	root, err := emulator.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	path := []string{tools}
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if !exists(filepath.Join(d, "sam")) && !exists(filepath.Join(d, "docker")) {
			path = append(path, d)
		}
	}
	cmd := exec.Command("make", "-s", "--no-print-directory", "sam-local", "SAM_PORT="+strconv.Itoa(port), "ORGAUTH_DATA_DIR="+dataDir)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "PATH="+strings.Join(path, string(os.PathListSeparator)))
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	return stdout.String(), stderr.String(), err
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

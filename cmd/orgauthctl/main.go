// Command orgauthctl is the operators' command line for orgauth: it creates
// and lists organizations, sets their plan, creates, lists, disables and
// enables users, creates, lists, shows, deletes and transfers applications,
// registers APIs and their scopes (authz.go), and configures organizations' own SSO (sso.go),
// straight on the DynamoDB table through pkg/ops; and it rotates the token
// signing keys (keys.go, see infra/KEY-ROTATION.md). Run `orgauthctl help`
// for the commands.
//
// Connection: --table or TABLE_NAME names the table; DYNAMODB_ENDPOINT
// points at an emulator, AWS_REGION picks the region. With none of them set
// and a local.json in ORGAUTH_DATA_DIR (default .orgauth), as `make run`
// writes it, the table and endpoint come from that file. Otherwise the usual
// AWS configuration chain applies (profile, environment, instance role).
//
// Output is an aligned table, or one JSON document with --json. Errors are
// one line on standard error: exit status 1, or 2 for a usage error. It
// never prints a password hash, a client secret hash, or an upstream client
// secret or its ciphertext; a generated password is printed once.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	osuser "os/user"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"orgauth/pkg/ops"
	"orgauth/pkg/platform/awsenv"
	"orgauth/pkg/platform/config"
	"orgauth/pkg/storage/dynamo"
	"orgauth/pkg/wiring"
)

const usageText = `orgauthctl manages orgauth's organizations, users, applications, SSO and signing keys.

Usage:
  orgauthctl orgs create --name NAME --plan PLAN
  orgauthctl orgs list
  orgauthctl orgs set-plan --org ID --plan PLAN
  orgauthctl users create --org ID --email EMAIL [--name NAME] [--role member|admin]
                          [--password-stdin | --generate-password]
  orgauthctl users list --org ID
  orgauthctl users disable --user ID|EMAIL
  orgauthctl users enable --user ID|EMAIL
  orgauthctl apps create --org ID --creator USER --name NAME --type spa|m2m [--callback URL ...]
                         [--origin ORIGIN ...] [--logout-url URL ...] [--scopes SCOPE,...]
  orgauthctl apps list --org ID
  orgauthctl apps show --client-id ID
  orgauthctl apps delete --client-id ID
  orgauthctl apps transfer --client-id ID --to USER
  orgauthctl apis create --audience URI [--name NAME] [--scope NAME="DESCRIPTION":ROLE,ROLE ...]
                         [--scopes-file FILE]
  orgauthctl apis list
  orgauthctl apis show --audience URI
  orgauthctl apis update --audience URI [--name NAME] [--scope ... | --scopes-file FILE]
  orgauthctl apis delete --audience URI
  orgauthctl apis bootstrap [--audiences URI,URI...]
  orgauthctl sso set --org ID --issuer URL --client-id ID --domains DOMAIN[,DOMAIN...]
                     [--client-secret-stdin] [--scopes "SCOPE ..."] [--enforce]
                     [--provision [--role member|admin]] [--apps CLIENT_ID[,CLIENT_ID...]]
  orgauthctl sso show --org ID
  orgauthctl sso remove --org ID
  orgauthctl keys list
  orgauthctl keys rotate [--spec RSA_2048|ECC_NIST_P256] [--stage STAGE]
  orgauthctl keys withdraw

Plans: free, team, enterprise, enterprise_large, enterprise_unlimited.

apis registers the stage's APIs and their scopes; each scope names the roles (admin,
member) that may hold it. --scope read="Read your data":member,admin is repeated per scope
(roles after the last colon; end with a colon for none); --scopes-file takes a JSON array
[{"name": "read", "description": "Read your data", "roles": ["member", "admin"]}].
apis update replaces every scope when given any.

sso set replaces an organization's SSO settings (its own OpenID provider). With
--client-secret-stdin the provider's client secret is read as one line from standard
input and stored encrypted with the KMS key SSO_KEY_ID; without it the configured
secret is kept. The secret is never shown: sso show says client_secret: set.
Register redirect_uri (<issuer>/callback/<org id>) at the provider. --enforce ends the
organization's sessions that its provider did not authenticate.

keys rotate performs the next due step of a signing-key rotation (publish,
promote, retire) and says when the next one is due; see infra/KEY-ROTATION.md.

Every command also takes:
  --json         print one JSON document instead of a table
  --table NAME   the DynamoDB table (default $TABLE_NAME)

Environment:
  TABLE_NAME         the DynamoDB table
  DYNAMODB_ENDPOINT  a DynamoDB emulator, such as http://127.0.0.1:8000
  KMS_ENDPOINT       a KMS emulator (keys commands, sso set), such as http://127.0.0.1:4599
  SSO_KEY_ID         the symmetric KMS key of upstream client secrets (sso set with a secret;
                     the stack's SSOSecretKey)
  ISSUER             the stage's issuer URL, for the redirect URI sso show and sso set print
                     (local.json's issuer by default)
  AWS_REGION         the AWS region (the usual AWS configuration chain applies)
  ORGAUTH_DATA_DIR   where make run keeps local.json (default .orgauth); with
                     no table and no endpoint set, they are read from there
                     (with kms_endpoint and signing_key_ids for keys commands, and
                     kms_endpoint and sso_key_id for sso set)

Run "orgauthctl GROUP COMMAND -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], env{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		getenv: os.Getenv, stdinIsTerminal: isTerminal(os.Stdin), now: time.Now,
	})
	stop()
	os.Exit(code)
}

// env is the outside world of one run, so tests can run it in process.
type env struct {
	stdin           io.Reader
	stdout, stderr  io.Writer
	getenv          func(string) string
	stdinIsTerminal bool
	now             func() time.Time
}

// usageError is a command line that cannot run: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// run runs one command line and returns the exit status.
func run(ctx context.Context, args []string, e env) int {
	err := dispatch(ctx, args, e)
	var uerr *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &uerr):
		fmt.Fprintln(e.stderr, "orgauthctl:", oneLine(err.Error()))
		return 2
	default:
		fmt.Fprintln(e.stderr, "orgauthctl:", oneLine(err.Error()))
		return 1
	}
}

func dispatch(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		return usagef("missing command (one of orgs, users, apps, apis, sso, keys; see orgauthctl help)")
	}
	if a := args[0]; a == "help" || a == "-h" || a == "-help" || a == "--help" {
		fmt.Fprint(e.stdout, usageText)
		return nil
	}
	group, ok := groups[args[0]]
	if !ok {
		return usagef("unknown command %q (one of orgs, users, apps, apis, sso, keys; see orgauthctl help)", args[0])
	}
	if len(args) < 2 || strings.HasPrefix(args[1], "-") {
		return usagef("%s: missing command (one of %s)", args[0], strings.Join(names(group), ", "))
	}
	c, ok := findCommand(group, args[1])
	if !ok {
		return usagef("%s: unknown command %q (one of %s)", args[0], args[1], strings.Join(names(group), ", "))
	}
	full := args[0] + " " + c.name

	fs := flag.NewFlagSet("orgauthctl "+full, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported in one line below
	var common commonFlags
	fs.BoolVar(&common.json, "json", false, "print one JSON document instead of a table")
	fs.StringVar(&common.table, "table", "", "the DynamoDB table (default $TABLE_NAME)")
	exec := c.setup(fs)
	if err := fs.Parse(args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printCommandHelp(e.stdout, full, c, fs)
			return flag.ErrHelp
		}
		return usagef("%s: %v (see orgauthctl %s -h)", full, err, full)
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q (see orgauthctl %s -h)", full, fs.Arg(0), full)
	}
	inv := &invocation{ctx: ctx, env: e, common: common, name: full}
	if err := exec(inv); err != nil {
		return inv.explain(err)
	}
	return nil
}

func printCommandHelp(w io.Writer, full string, c command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: orgauthctl %s %s\n\n%s\n\nFlags:\n", full, c.args, c.summary)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// commonFlags are the flags every command takes.
type commonFlags struct {
	json  bool
	table string
}

// invocation is one parsed command about to run.
type invocation struct {
	ctx    context.Context
	env    env
	common commonFlags
	name   string
	conn   connection // set once connected
}

// admin connects to the table and returns the operations on it.
func (inv *invocation) admin() (*ops.Admin, error) {
	c, err := resolveConnection(inv.common.table, inv.env.getenv)
	if err != nil {
		return nil, err
	}
	cfg := config.Config{Region: c.region, DynamoDBEndpoint: c.endpoint, Table: c.table}
	awsCfg, err := awsenv.Load(inv.ctx, cfg)
	if err != nil {
		return nil, err
	}
	db, _ := wiring.Clients(awsCfg, cfg)
	inv.conn = c
	return ops.New(dynamo.New(db, c.table), inv.env.now).WithAudit(inv.auditor()).ForStage(c.issuer), nil
}

// auditor writes the invocation's audit lines (JSON) to standard error: who
// ran it, from where, under one request id.
func (inv *invocation) auditor() *ops.Auditor {
	host, _ := os.Hostname()
	who := "unknown"
	if u, err := osuser.Current(); err == nil {
		who = u.Username
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	return &ops.Auditor{
		Log:       slog.New(slog.NewJSONHandler(inv.env.stderr, nil)),
		Actor:     "cli:" + who + "@" + host,
		RequestID: "cli-" + hex.EncodeToString(id[:]),
		Source:    host,
	}
}

// connection says where the table is, and where KMS is.
type connection struct {
	table, endpoint, region string
	kmsEndpoint             string // KMS_ENDPOINT, or local.json's kms_endpoint
	signingKeyIDs           string // local.json's signing_key_ids
	ssoKeyID                string // SSO_KEY_ID, or local.json's sso_key_id
	issuer                  string // ISSUER, or local.json's issuer: orgauth's own, and the base of the SSO redirect URI
	local                   bool   // read from local.json
}

// localFile is the part of make run's local.json that orgauthctl reads.
type localFile struct {
	Table            string `json:"table"`
	DynamoDBEndpoint string `json:"dynamodb_endpoint"`
	KMSEndpoint      string `json:"kms_endpoint"`
	SigningKeyIDs    string `json:"signing_key_ids"`
	SSOKeyID         string `json:"sso_key_id"`
	Issuer           string `json:"issuer"`
}

// resolveConnection applies the precedence: --table, then TABLE_NAME and
// DYNAMODB_ENDPOINT; with none of them, local.json from make run. KMS_ENDPOINT
// wins over local.json's kms_endpoint, SSO_KEY_ID over its sso_key_id.
func resolveConnection(tableFlag string, getenv func(string) string) (connection, error) {
	c := connection{table: tableFlag, endpoint: getenv("DYNAMODB_ENDPOINT"), region: getenv("AWS_REGION"), kmsEndpoint: getenv("KMS_ENDPOINT"), ssoKeyID: getenv("SSO_KEY_ID"), issuer: getenv("ISSUER")}
	if c.table == "" {
		c.table = getenv("TABLE_NAME")
	}
	if c.table == "" && c.endpoint == "" {
		dir := getenv("ORGAUTH_DATA_DIR")
		if dir == "" {
			dir = ".orgauth"
		}
		path := filepath.Join(dir, "local.json")
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			var lf localFile
			if err := json.Unmarshal(b, &lf); err != nil {
				return c, fmt.Errorf("%s: %v", path, err)
			}
			if lf.Table == "" {
				return c, fmt.Errorf("%s has no \"table\"; set --table or TABLE_NAME", path)
			}
			c.table, c.endpoint, c.local = lf.Table, lf.DynamoDBEndpoint, true
			if c.kmsEndpoint == "" {
				c.kmsEndpoint = lf.KMSEndpoint
			}
			c.signingKeyIDs = lf.SigningKeyIDs
			if c.ssoKeyID == "" {
				c.ssoKeyID = lf.SSOKeyID
			}
			if c.issuer == "" {
				c.issuer = lf.Issuer
			}
		case !errors.Is(err, os.ErrNotExist):
			return c, err
		}
	}
	if c.table == "" {
		return c, usagef("no table: set --table or TABLE_NAME (or start the local server with make run)")
	}
	if c.region == "" && (c.endpoint != "" || c.kmsEndpoint != "") {
		c.region = "us-east-1" // emulators accept any region
	}
	return c, nil
}

// explain words the common AWS failures for an operator, instead of the
// SDK's request dump.
func (inv *invocation) explain(err error) error {
	where := "AWS"
	if inv.conn.endpoint != "" {
		where = inv.conn.endpoint
	} else if inv.conn.region != "" {
		where = "AWS " + inv.conn.region
	}
	var rnf *types.ResourceNotFoundException
	var dial *net.OpError
	var kerr *kmsError
	switch {
	case errors.As(err, &kerr):
		return inv.explainKMS(kerr)
	case errors.As(err, &rnf):
		return fmt.Errorf("table %q does not exist at %s (check --table, TABLE_NAME, DYNAMODB_ENDPOINT and AWS_REGION)", inv.conn.table, where)
	case errors.As(err, &dial) && dial.Op == "dial":
		return fmt.Errorf("cannot reach DynamoDB at %s: %v (is the emulator running? make run starts one)", where, dial.Err)
	}
	return err
}

// oneLine keeps an error message to one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// isTerminal reports whether f is a character device, such as a terminal.
// /dev/null counts as one too, which is fine: nobody means to read a
// password from it.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

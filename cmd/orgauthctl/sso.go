package main

// orgauthctl sso: an organization's own OpenID provider (README, Organization
// SSO). The rules live in pkg/ops; this file reads the client secret from
// standard input, encrypts it with KMS (SSO_KEY_ID) through pkg/platform/secretbox, and
// never prints the secret or its ciphertext.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/ops"
	"orgauth/pkg/platform/awsenv"
	"orgauth/pkg/platform/config"
	"orgauth/pkg/platform/secretbox"
	"orgauth/pkg/wiring"
)

var ssoCommands = []command{
	{"set", "--org ID --issuer URL --client-id ID --domains DOMAIN[,DOMAIN...] [--client-secret-stdin] [--scopes \"SCOPE ...\"] " +
		"[--enforce] [--provision [--role member|admin]] [--apps CLIENT_ID[,CLIENT_ID...]]",
		"Configure the organization's own OpenID provider, replacing every setting. Register orgauth\n" +
			"there with the redirect URI <orgauth issuer>/callback. With --client-secret-stdin the client\n" +
			"secret is read as one line from standard input and stored encrypted with the KMS key\n" +
			"SSO_KEY_ID (or local.json's sso_key_id); without it the configured secret is kept, for the\n" +
			"same issuer and client id. The secret is never printed.", ssoSet},
	{"verify-domain", "--org ID --domain DOMAIN [--override --reason TEXT]",
		"Prove the organization holds an email domain. The first run prints a DNS TXT record to publish\n" +
			"at _orgauth.DOMAIN; run it again once the record is there. A verified domain is the\n" +
			"organization's alone: no other organization may create users in it or use it for SSO, and its\n" +
			"SSO signs in addresses there only once verified. --override verifies without DNS: an\n" +
			"operator's decision, written to the audit trail with --reason.", ssoVerifyDomain},
	{"show", "--org ID", "Show the organization's SSO settings. The client secret shows only as set.", ssoShow},
	{"remove", "--org ID", "Remove the organization's SSO settings and client secret: its users sign in with\n" +
		"passwords again.", ssoRemove},
}

func ssoSet(fs *flag.FlagSet) func(*invocation) error {
	org := fs.String("org", "", "the organization's id")
	issuer := fs.String("issuer", "", "the provider's issuer URL, exactly as its ID tokens name it (https; http only on loopback)")
	clientID := fs.String("client-id", "", "the client id orgauth is registered as at the provider")
	fromStdin := fs.Bool("client-secret-stdin", false, "read the client secret as one line from standard input\n(without it, the configured secret is kept)")
	domains := fs.String("domains", "", "comma-separated email domains that belong to the provider, such as example.com,example.org")
	scopes := fs.String("scopes", "", "space-separated scopes to ask for besides openid (default \"email profile\")")
	enforce := fs.Bool("enforce", false, "no password sign-in for the organization's users of the applications SSO applies to")
	provision := fs.Bool("provision", false, "create unknown users on their first sign-in")
	role := fs.String("role", "", "with --provision: the role of provisioned users, member (default) or admin")
	apps := fs.String("apps", "", "comma-separated client ids of the organization's SPA applications SSO applies to\n(default: all of them)")
	return func(inv *invocation) error {
		if err := required(inv, [2]string{"org", *org}, [2]string{"issuer", *issuer}, [2]string{"client-id", *clientID},
			[2]string{"domains", *domains}); err != nil {
			return err
		}
		if *role != "" && !*provision {
			return usagef("%s: --role applies only with --provision", inv.name)
		}
		var secret string
		if *fromStdin {
			var err error
			if secret, err = readSecretLine(inv.env.stdin); err != nil {
				return err
			}
		}
		a, err := inv.admin()
		if err != nil {
			return err
		}
		var enc ops.SecretEncrypter
		if secret != "" {
			if enc, err = inv.ssoBox(); err != nil {
				return err
			}
		}
		o, err := a.SetSSO(inv.ctx, enc, *org, ops.SSOInput{
			Issuer: *issuer, ClientID: *clientID, ClientSecret: secret,
			Scopes: strings.Fields(*scopes), Domains: splitList(*domains), Applications: splitList(*apps),
			Enforced: *enforce, Provision: *provision, ProvisionRole: domain.Role(*role),
		})
		if err != nil {
			return err
		}
		v := ssoView(o, inv.conn.issuer)
		return inv.print(v, ssoTable(v))
	}
}

func ssoVerifyDomain(fs *flag.FlagSet) func(*invocation) error {
	org := fs.String("org", "", "the organization's id")
	d := fs.String("domain", "", "the email domain, such as example.com")
	override := fs.Bool("override", false, "verify without DNS (audited; needs --reason)")
	reason := fs.String("reason", "", "with --override: why, for the audit trail")
	return func(inv *invocation) error {
		if err := required(inv, [2]string{"org", *org}, [2]string{"domain", *d}); err != nil {
			return err
		}
		if *reason != "" && !*override {
			return usagef("%s: --reason applies only with --override", inv.name)
		}
		a, err := inv.admin()
		if err != nil {
			return err
		}
		v, err := a.VerifyDomain(inv.ctx, net.DefaultResolver, *org, *d, *override, *reason)
		if err != nil {
			return err
		}
		view := domainView{OrganizationID: *org, Domain: v.Claim.Domain, Verified: v.Verified, Method: v.Claim.Method,
			TXTName: v.TXTName, TXTValue: v.TXTValue}
		return inv.print(view, func(w io.Writer) {
			if v.Verified {
				fmt.Fprintf(w, "%s is verified for organization %s (%s).\n", view.Domain, view.OrganizationID, view.Method)
				return
			}
			fmt.Fprintf(w, "%s is not verified yet. Publish this DNS TXT record, then run this command again:\n  %s TXT %q\n",
				view.Domain, view.TXTName, view.TXTValue)
		})
	}
}

// domainView is what verify-domain prints.
type domainView struct {
	OrganizationID string `json:"organization_id"`
	Domain         string `json:"domain"`
	Verified       bool   `json:"verified"`
	Method         string `json:"method,omitempty"`
	TXTName        string `json:"txt_name"`
	TXTValue       string `json:"txt_value"`
}

func ssoShow(fs *flag.FlagSet) func(*invocation) error { return ssoOfOrg(fs, (*ops.Admin).SSO) }

func ssoRemove(fs *flag.FlagSet) func(*invocation) error {
	return ssoOfOrg(fs, (*ops.Admin).RemoveSSO)
}

// ssoOfOrg is a command that takes --org, runs op on it and prints the
// organization's SSO settings after.
func ssoOfOrg(fs *flag.FlagSet, op func(*ops.Admin, context.Context, string) (domain.Organization, error)) func(*invocation) error {
	org := fs.String("org", "", "the organization's id")
	return func(inv *invocation) error {
		if err := required(inv, [2]string{"org", *org}); err != nil {
			return err
		}
		a, err := inv.admin()
		if err != nil {
			return err
		}
		o, err := op(a, inv.ctx, *org)
		if err != nil {
			return err
		}
		v := ssoView(o, inv.conn.issuer)
		return inv.print(v, ssoTable(v))
	}
}

// ---------------------------------------------------------------- KMS

// ssoBox returns the encrypter of upstream client secrets: KMS (KMS_ENDPOINT
// or local.json's kms_endpoint) with the key SSO_KEY_ID or local.json's
// sso_key_id. It needs inv.admin() to have resolved the connection.
func (inv *invocation) ssoBox() (ops.SecretEncrypter, error) {
	c := inv.conn
	if strings.TrimSpace(c.ssoKeyID) == "" {
		return nil, usagef("%s: no KMS key for client secrets: set SSO_KEY_ID to the stack's SSO key "+
			"(its SSOSecretKey; make run writes it to local.json as sso_key_id)", inv.name)
	}
	cfg := config.Config{Region: c.region, DynamoDBEndpoint: c.endpoint, KMSEndpoint: c.kmsEndpoint, Table: c.table}
	awsCfg, err := awsenv.Load(inv.ctx, cfg)
	if err != nil {
		return nil, err
	}
	_, k := wiring.Clients(awsCfg, cfg)
	return kmsEncrypter{secretbox.New(k, strings.TrimSpace(c.ssoKeyID))}, nil
}

// kmsEncrypter marks KMS failures, so that explain words them for KMS.
type kmsEncrypter struct{ box *secretbox.Box }

func (e kmsEncrypter) Encrypt(ctx context.Context, orgID string, plaintext []byte) ([]byte, error) {
	ct, err := e.box.Encrypt(ctx, orgID, plaintext)
	return ct, kmsErr(err)
}

// maxSecretLine bounds what --client-secret-stdin reads: the longest secret
// of up to 4 bytes a character, plus the line ending.
const maxSecretLine = 4*ops.MaxSSOSecretLength + 2

// readSecretLine reads one line (without its line ending) from r.
func readSecretLine(r io.Reader) (string, error) {
	return readSecretLineOf(r, maxSecretLine, "client secret")
}

// ---------------------------------------------------------------- output

// ssoSettings is what orgauthctl shows of an organization's SSO: never the
// client secret, nor its ciphertext.
type ssoSettings struct {
	OrganizationID string   `json:"organization_id"`
	Configured     bool     `json:"configured"`
	Issuer         string   `json:"issuer"`
	ClientID       string   `json:"client_id"`
	ClientSecret   string   `json:"client_secret"` // "set" or "not set"
	Scopes         []string `json:"scopes"`
	Domains        []string `json:"domains"`
	Enforced       bool     `json:"enforced"`
	Provision      bool     `json:"provision"`
	ProvisionRole  string   `json:"provision_role"`
	// Applications are the client ids SSO applies to; empty: every
	// application of the organization.
	Applications []string  `json:"applications"`
	UpdatedAt    time.Time `json:"updated_at"`
	// RedirectURI is what to register at the provider: the organization's
	// own callback (domain.SSORedirectURI), when the stage's issuer is
	// known (ISSUER, or local.json's issuer).
	RedirectURI string `json:"redirect_uri"`
}

func ssoView(o domain.Organization, issuer string) ssoSettings {
	v := ssoSettings{OrganizationID: o.ID, ClientSecret: "not set", Scopes: []string{}, Domains: []string{},
		Applications: []string{}, UpdatedAt: o.UpdatedAt.UTC()}
	if issuer = strings.TrimRight(strings.TrimSpace(issuer), "/"); issuer != "" {
		v.RedirectURI = domain.SSORedirectURI(issuer, o.ID)
	}
	if s := o.SSO; s != nil {
		v.Configured, v.Issuer, v.ClientID = true, s.Issuer, s.ClientID
		if len(s.ClientSecretCiphertext) > 0 {
			v.ClientSecret = "set"
		}
		v.Scopes, v.Domains, v.Applications = nonNil(s.Scopes), nonNil(s.Domains), nonNil(s.Applications)
		v.Enforced, v.Provision, v.ProvisionRole = s.Enforced, s.Provision, string(s.ProvisionRole)
	}
	return v
}

// ssoTable writes the settings one "name: value" line each.
func ssoTable(v ssoSettings) func(io.Writer) {
	return func(w io.Writer) {
		line := func(name, value string) { fmt.Fprintf(w, "%s: %s\n", name, cell(value)) }
		line("organization_id", v.OrganizationID)
		if !v.Configured {
			line("sso", "not configured")
			line("updated_at", stamp(v.UpdatedAt))
			return
		}
		line("sso", "configured")
		redirect := v.RedirectURI
		if redirect == "" {
			redirect = "<the stage's issuer>/callback/" + v.OrganizationID + " (set ISSUER to see it)"
		}
		line("redirect_uri", redirect)
		line("issuer", v.Issuer)
		line("client_id", v.ClientID)
		line("client_secret", v.ClientSecret)
		line("scopes", strings.Join(v.Scopes, " "))
		line("domains", strings.Join(v.Domains, ", "))
		line("enforced", yesNo(v.Enforced))
		provision := yesNo(v.Provision)
		if v.Provision {
			provision += ", as " + v.ProvisionRole
		}
		line("provision", provision)
		apps := "all"
		if len(v.Applications) > 0 {
			apps = strings.Join(v.Applications, ", ")
		}
		line("applications", apps)
		line("updated_at", stamp(v.UpdatedAt))
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/ops"
	"orgauth/pkg/password"
)

// command is one leaf of the command tree. setup declares its flags on fs
// and returns the function that runs it once they are parsed.
type command struct {
	name    string
	args    string // flag synopsis for -h
	summary string
	setup   func(fs *flag.FlagSet) func(*invocation) error
}

var groups = map[string][]command{
	"orgs": {
		{"create", "--name NAME --plan PLAN", "Create an organization.", orgsCreate},
		{"list", "", "List every organization.", orgsList},
		{"set-plan", "--org ID --plan PLAN", "Move an organization to another plan.", orgsSetPlan},
		{"set-quota", "--org ID --tokens N", "Override the organization's monthly M2M token quota (0: back to its plan's).", orgsSetQuota},
	},
	"users": {
		{"create", "--org ID --email EMAIL [--name NAME] [--role member|admin] [--email-verified]\n" +
			"          [--password-stdin | --generate-password]",
			"Create a user. The password is read as one line from standard input (--password-stdin, or\n" +
				"without either flag when standard input is not a terminal), or generated and printed once\n" +
				"(--generate-password). Passwords are 12 to 256 characters. --email-verified: you know the\n" +
				"address is theirs (tokens say email_verified: true).", usersCreate},
		{"update", "--user ID|EMAIL --email-verified[=false]", "Say whether the user's email address is known to be theirs.", usersUpdate},
		{"list", "--org ID", "List an organization's users.", usersList},
		{"disable", "--user ID|EMAIL", "Disable a user: they can no longer sign in, their sessions end and their\n" +
			"refresh tokens are revoked.", usersDisable},
		{"enable", "--user ID|EMAIL", "Enable a disabled user again.", usersEnable},
	},
	"apps": {
		{"create", "--org ID --creator USER --name NAME --type spa|m2m [--callback URL ...] [--origin ORIGIN ...]\n" +
			"          [--logout-url URL ...] [--scopes SCOPE,...] [--description TEXT]",
			"Create an application owned by an enabled member of the organization; its scopes must be scopes of\n" +
				"registered APIs that the member's role holds. An M2M application's secret is printed once.", appsCreate},
		{"list", "--org ID", "List an organization's applications.", appsList},
		{"show", "--client-id ID", "Show an application.", appsShow},
		{"delete", "--client-id ID", "Delete an application and revoke its refresh-token families.", appsDelete},
		{"transfer", "--client-id ID --to USER", "Give an application to another enabled member of its organization.", appsTransfer},
	},
	"apis": apiCommands, // authz.go
	"sso":  ssoCommands, // sso.go
	"keys": keyCommands, // keys.go
}

func findCommand(group []command, name string) (command, bool) {
	for _, c := range group {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func names(group []command) []string {
	out := make([]string, len(group))
	for i, c := range group {
		out[i] = c.name
	}
	return out
}

// required fails with a usage error when a flag was left empty.
func required(inv *invocation, flags ...[2]string) error {
	for _, f := range flags {
		if strings.TrimSpace(f[1]) == "" {
			return usagef("%s: --%s is required (see orgauthctl %s -h)", inv.name, f[0], inv.name)
		}
	}
	return nil
}

// ---------------------------------------------------------------- orgs

func orgsCreate(fs *flag.FlagSet) func(*invocation) error {
	name := fs.String("name", "", "the organization's name (1 to 100 characters)")
	plan := fs.String("plan", "", "the plan: "+planList())
	return func(inv *invocation) error {
		if err := required(inv, [2]string{"name", *name}, [2]string{"plan", *plan}); err != nil {
			return err
		}
		a, err := inv.admin()
		if err != nil {
			return err
		}
		o, err := a.CreateOrganization(inv.ctx, *name, domain.Plan(*plan))
		if err != nil {
			return err
		}
		return inv.print(orgView(o), orgTable([]domain.Organization{o}))
	}
}

func orgsList(fs *flag.FlagSet) func(*invocation) error {
	return func(inv *invocation) error {
		a, err := inv.admin()
		if err != nil {
			return err
		}
		orgs, err := a.ListOrganizations(inv.ctx)
		if err != nil {
			return err
		}
		views := make([]organization, len(orgs))
		for i, o := range orgs {
			views[i] = orgView(o)
		}
		return inv.print(struct {
			Organizations []organization `json:"organizations"`
		}{views}, orgTable(orgs))
	}
}

func orgsSetPlan(fs *flag.FlagSet) func(*invocation) error {
	org := fs.String("org", "", "the organization's id")
	plan := fs.String("plan", "", "the new plan: "+planList())
	return func(inv *invocation) error {
		if err := required(inv, [2]string{"org", *org}, [2]string{"plan", *plan}); err != nil {
			return err
		}
		a, err := inv.admin()
		if err != nil {
			return err
		}
		o, err := a.SetPlan(inv.ctx, *org, domain.Plan(*plan))
		if err != nil {
			return err
		}
		return inv.print(orgView(o), orgTable([]domain.Organization{o}))
	}
}

func orgsSetQuota(fs *flag.FlagSet) func(*invocation) error {
	org := fs.String("org", "", "the organization's id")
	tokens := fs.String("tokens", "", "M2M tokens per month; 0 for the plan's quota")
	return func(inv *invocation) error {
		if err := required(inv, [2]string{"org", *org}, [2]string{"tokens", *tokens}); err != nil {
			return err
		}
		n, err := strconv.ParseInt(*tokens, 10, 64)
		if err != nil {
			return &ops.InvalidError{Field: "tokens", Reason: "must be a whole number"}
		}
		a, err := inv.admin()
		if err != nil {
			return err
		}
		o, err := a.SetTokenQuota(inv.ctx, *org, n)
		if err != nil {
			return err
		}
		return inv.print(orgView(o), orgTable([]domain.Organization{o}))
	}
}

func planList() string {
	s := make([]string, len(domain.Plans))
	for i, p := range domain.Plans {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}

// ---------------------------------------------------------------- users

func usersCreate(fs *flag.FlagSet) func(*invocation) error {
	org := fs.String("org", "", "the organization's id")
	email := fs.String("email", "", "the user's email address (unique across orgauth)")
	name := fs.String("name", "", "the user's display name (optional)")
	role := fs.String("role", string(domain.RoleMember), "member or admin")
	fromStdin := fs.Bool("password-stdin", false, "read the password as one line from standard input")
	generate := fs.Bool("generate-password", false, "generate a password and print it once")
	verified := fs.Bool("email-verified", false, "the email address is known to be the user's")
	return func(inv *invocation) error {
		if err := required(inv, [2]string{"org", *org}, [2]string{"email", *email}); err != nil {
			return err
		}
		var pw string
		switch {
		case *fromStdin && *generate:
			return usagef("%s: use either --password-stdin or --generate-password, not both", inv.name)
		case *generate:
			pw = password.Generate()
		case !*fromStdin && inv.env.stdinIsTerminal:
			return usagef("%s: no password: pass --generate-password to have one generated, or --password-stdin to read it from standard input", inv.name)
		default:
			var err error
			if pw, err = readPasswordLine(inv.env.stdin); err != nil {
				return err
			}
		}
		a, err := inv.admin()
		if err != nil {
			return err
		}
		var opts []ops.UserOption
		if *verified {
			opts = append(opts, ops.EmailVerified)
		}
		u, err := a.CreateUser(inv.ctx, *org, *email, *name, domain.Role(*role), pw, opts...)
		if err != nil {
			return err
		}
		v := userView(u)
		if !*generate {
			return inv.print(v, userTable([]domain.User{u}))
		}
		// The one and only time this password is shown.
		return inv.print(struct {
			user
			GeneratedPassword string `json:"generated_password"`
		}{v, pw}, func(w io.Writer) {
			userTable([]domain.User{u})(w)
			fmt.Fprintf(w, "\nGenerated password (shown only this once; hand it to the user now): %s\n", pw)
		})
	}
}

// maxPasswordLine bounds what --password-stdin reads: 256 characters of up
// to 4 bytes each, plus the line ending.
const maxPasswordLine = 4*password.MaxLength + 2

// readPasswordLine reads one line (without its line ending) from r.
func readPasswordLine(r io.Reader) (string, error) {
	return readSecretLineOf(r, maxPasswordLine, "password")
}

// readSecretLineOf reads one line of at most max bytes (without its line
// ending) from r; what names the secret in errors.
func readSecretLineOf(r io.Reader, max int, what string) (string, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, int64(max)+1), max+1)
	line, err := br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the %s from standard input: %w", what, err)
	}
	if len(line) > max {
		return "", fmt.Errorf("the %s line on standard input is longer than %d bytes", what, max)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", fmt.Errorf("no %s on standard input (expected one line)", what)
	}
	return line, nil
}

func usersList(fs *flag.FlagSet) func(*invocation) error {
	org := fs.String("org", "", "the organization's id")
	return func(inv *invocation) error {
		if err := required(inv, [2]string{"org", *org}); err != nil {
			return err
		}
		a, err := inv.admin()
		if err != nil {
			return err
		}
		users, err := a.ListUsers(inv.ctx, *org)
		if err != nil {
			return err
		}
		views := make([]user, len(users))
		for i, u := range users {
			views[i] = userView(u)
		}
		return inv.print(struct {
			Users []user `json:"users"`
		}{views}, userTable(users))
	}
}

func usersUpdate(fs *flag.FlagSet) func(*invocation) error {
	who := fs.String("user", "", "the user's id or email address")
	verified := fs.Bool("email-verified", false, "whether the email address is known to be the user's")
	return func(inv *invocation) error {
		if err := required(inv, [2]string{"user", *who}); err != nil {
			return err
		}
		set := false
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == "email-verified" })
		if !set {
			return usagef("%s: nothing to change: pass --email-verified or --email-verified=false", inv.name)
		}
		a, err := inv.admin()
		if err != nil {
			return err
		}
		u, err := a.SetEmailVerified(inv.ctx, *who, *verified)
		if err != nil {
			return err
		}
		return inv.print(userView(u), userTable([]domain.User{u}))
	}
}

// userChange is a command that changes the one user --user names, and
// shows it.
func userChange(change func(*ops.Admin, context.Context, string) (domain.User, error)) func(*flag.FlagSet) func(*invocation) error {
	return func(fs *flag.FlagSet) func(*invocation) error {
		who := fs.String("user", "", "the user's id or email address")
		return func(inv *invocation) error {
			if err := required(inv, [2]string{"user", *who}); err != nil {
				return err
			}
			a, err := inv.admin()
			if err != nil {
				return err
			}
			u, err := change(a, inv.ctx, *who)
			if err != nil {
				return err
			}
			return inv.print(userView(u), userTable([]domain.User{u}))
		}
	}
}

var (
	usersDisable = userChange((*ops.Admin).DisableUser)
	usersEnable  = userChange((*ops.Admin).EnableUser)
)

// ---------------------------------------------------------------- apps

func appsList(fs *flag.FlagSet) func(*invocation) error {
	org := fs.String("org", "", "the organization's id")
	return func(inv *invocation) error {
		if err := required(inv, [2]string{"org", *org}); err != nil {
			return err
		}
		a, err := inv.admin()
		if err != nil {
			return err
		}
		apps, err := a.ListApplications(inv.ctx, *org)
		if err != nil {
			return err
		}
		views := make([]application, len(apps))
		for i, app := range apps {
			views[i] = appView(app)
		}
		return inv.print(struct {
			Applications []application `json:"applications"`
		}{views}, appTable(apps))
	}
}

// ---------------------------------------------------------------- output

// print writes v as one JSON document with --json, else the table.
func (inv *invocation) print(v any, table func(io.Writer)) error {
	if inv.common.json {
		enc := json.NewEncoder(inv.env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	table(inv.env.stdout)
	return nil
}

// The views are what orgauthctl shows: never a password hash or a client
// secret hash.

type organization struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Plan string `json:"plan"`
	// TokenQuota is the operator's override of the plan's monthly M2M
	// token quota; absent when the plan's applies.
	TokenQuota int64     `json:"token_quota,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func orgView(o domain.Organization) organization {
	return organization{ID: o.ID, Name: o.Name, Plan: string(o.Plan), TokenQuota: o.TokenQuota, CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC()}
}

type user struct {
	ID             string    `json:"id"`
	OrganizationID string    `json:"organization_id"`
	Email          string    `json:"email"`
	Name           string    `json:"name"`
	Role           string    `json:"role"`
	Disabled       bool      `json:"disabled"`
	EmailVerified  bool      `json:"email_verified"`
	HasPassword    bool      `json:"has_password"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func userView(u domain.User) user {
	return user{
		ID: u.ID, OrganizationID: u.OrganizationID, Email: u.Email, Name: u.Name, Role: string(u.Role),
		Disabled: u.Disabled, EmailVerified: u.EmailVerified, HasPassword: u.PasswordHash != "", CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(),
	}
}

type application struct {
	ClientID            string    `json:"client_id"`
	OrganizationID      string    `json:"organization_id"`
	Name                string    `json:"name"`
	Description         string    `json:"description"`
	Type                string    `json:"type"`
	CallbackURLs        []string  `json:"callback_urls"`
	AllowedOrigins      []string  `json:"allowed_origins"`
	LogoutURLs          []string  `json:"logout_urls"`
	Scopes              []string  `json:"scopes"`
	AccessTokenLifetime int64     `json:"access_token_lifetime"` // seconds; 0: the stage default
	CreatedBy           string    `json:"created_by"`
	CreatedAt           time.Time `json:"created_at"`
	UpdatedAt           time.Time `json:"updated_at"`
}

func appView(a domain.Application) application {
	return application{
		ClientID: a.ClientID, OrganizationID: a.OrganizationID, Name: a.Name, Description: a.Description,
		Type: string(a.Type), CallbackURLs: nonNil(a.CallbackURLs), AllowedOrigins: nonNil(a.AllowedOrigins),
		LogoutURLs: nonNil(a.LogoutURLs), Scopes: nonNil(a.Scopes), AccessTokenLifetime: int64(a.AccessTokenLifetime / time.Second),
		CreatedBy: a.CreatedBy, CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC(),
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// table returns a function that writes header and rows aligned.
func table(header []string, rows [][]string) func(io.Writer) {
	return func(w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		for _, r := range rows {
			for i := range r {
				r[i] = cell(r[i])
			}
			fmt.Fprintln(tw, strings.Join(r, "\t"))
		}
		tw.Flush()
	}
}

// cell keeps a value on one table cell: no tabs or line breaks, "-" when
// empty.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "-"
	}
	return s
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func orgTable(orgs []domain.Organization) func(io.Writer) {
	rows := make([][]string, len(orgs))
	for i, o := range orgs {
		rows[i] = []string{o.ID, o.Name, string(o.Plan), stamp(o.CreatedAt), stamp(o.UpdatedAt)}
	}
	return table([]string{"ID", "NAME", "PLAN", "CREATED", "UPDATED"}, rows)
}

func userTable(users []domain.User) func(io.Writer) {
	rows := make([][]string, len(users))
	for i, u := range users {
		status := "active"
		if u.Disabled {
			status = "disabled"
		}
		rows[i] = []string{u.ID, u.Email, u.Name, string(u.Role), status, u.OrganizationID, stamp(u.CreatedAt)}
	}
	return table([]string{"ID", "EMAIL", "NAME", "ROLE", "STATUS", "ORG", "CREATED"}, rows)
}

func appTable(apps []domain.Application) func(io.Writer) {
	rows := make([][]string, len(apps))
	for i, a := range apps {
		rows[i] = []string{a.ClientID, string(a.Type), a.Name, strings.Join(a.Scopes, " "), a.CreatedBy, stamp(a.CreatedAt)}
	}
	return table([]string{"CLIENT ID", "TYPE", "NAME", "SCOPES", "CREATED BY", "CREATED"}, rows)
}

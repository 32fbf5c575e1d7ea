package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/ops"
)

// Registered APIs, and the application commands beyond apps list.

var apiCommands = []command{
	{"create", "--audience URI [--name NAME] [--scope NAME=\"DESCRIPTION\":ROLE,ROLE ...] [--scopes-file FILE]",
		"Register an API (resource server) and its scopes. Each --scope is name=description:roles, the roles\n" +
			"(admin, member) after the last colon, comma-separated, or none; --scopes-file reads a JSON array of\n" +
			"{\"name\", \"description\", \"roles\"} instead.", apisCreate},
	{"list", "", "List the registered APIs.", apisList},
	{"show", "--audience URI", "Show a registered API and its scopes.", apisShow},
	{"update", "--audience URI [--name NAME] [--scope ... | --scopes-file FILE]",
		"Rename an API, or replace all of its scopes (given as for create).", apisUpdate},
	{"delete", "--audience URI", "Remove a registered API: its scopes are granted no more.", apisDelete},
	{"bootstrap", "[--audiences URI,URI...]", "Register, without scopes, each audience not registered yet (default: $AUDIENCES,\n" +
		"the stage's APIs). Idempotent: the deploy runbook runs it after every deploy.", apisBootstrap},
}

func apisBootstrap(fs *flag.FlagSet) func(*invocation) error {
	var auds listFlag
	fs.Var(&auds, "audiences", "the audiences (default: $AUDIENCES, comma-separated)")
	return func(inv *invocation) error {
		if len(auds) == 0 {
			_ = auds.Set(inv.env.getenv("AUDIENCES"))
		}
		if len(auds) == 0 {
			return usagef("%s: no audiences: pass --audiences or set AUDIENCES", inv.name)
		}
		a, err := inv.admin()
		if err != nil {
			return err
		}
		created, err := a.BootstrapAPIs(inv.ctx, auds)
		if err != nil {
			return err
		}
		views := make([]apiJSON, len(created))
		for i, api := range created {
			views[i] = apiView(api)
		}
		return inv.print(struct {
			Registered []apiJSON `json:"registered"`
		}{views}, func(w io.Writer) { fmt.Fprintf(w, "Registered %d of %d audiences\n", len(created), len(auds)) })
	}
}

// scopeFlags collects repeated --scope flags.
type scopeFlags []domain.APIScope

func (s *scopeFlags) String() string { return "" }

// Set parses name=description:role,role. The description may hold colons;
// the roles are after the last one.
func (s *scopeFlags) Set(v string) error {
	name, rest, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("%q is not name=description:roles", v)
	}
	i := strings.LastIndex(rest, ":")
	if i < 0 {
		return fmt.Errorf("%q has no :roles (end with a colon for none)", v)
	}
	sc := domain.APIScope{Name: strings.TrimSpace(name), Description: strings.TrimSpace(rest[:i])}
	for _, r := range strings.Split(rest[i+1:], ",") {
		if r = strings.TrimSpace(r); r != "" {
			sc.Roles = append(sc.Roles, domain.Role(r))
		}
	}
	*s = append(*s, sc)
	return nil
}

// scopesFrom returns the scopes of --scope flags or --scopes-file, and
// whether any were given.
func scopesFrom(inv *invocation, flags scopeFlags, file string) ([]domain.APIScope, bool, error) {
	switch {
	case len(flags) > 0 && file != "":
		return nil, false, usagef("%s: use either --scope or --scopes-file, not both", inv.name)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, false, err
		}
		var list []apiScopeJSON // as apis show prints them
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, false, fmt.Errorf("%s: not a JSON array of {name, description, roles}: %v", file, err)
		}
		out := make([]domain.APIScope, 0, len(list))
		for _, f := range list {
			sc := domain.APIScope{Name: f.Name, Description: f.Description}
			for _, r := range f.Roles {
				sc.Roles = append(sc.Roles, domain.Role(r))
			}
			out = append(out, sc)
		}
		return out, true, nil
	case len(flags) > 0:
		return []domain.APIScope(flags), true, nil
	}
	return nil, false, nil
}

func apisCreate(fs *flag.FlagSet) func(*invocation) error {
	aud := fs.String("audience", "", "the API's audience: an absolute URI such as https://api.example.com")
	name := fs.String("name", "", "the API's name (default: the audience)")
	var scopes scopeFlags
	fs.Var(&scopes, "scope", `a scope, name="description":role,role (repeat for each)`)
	file := fs.String("scopes-file", "", "a JSON file with the scopes: [{\"name\", \"description\", \"roles\"}]")
	return func(inv *invocation) error {
		if err := required(inv, [2]string{"audience", *aud}); err != nil {
			return err
		}
		list, _, err := scopesFrom(inv, scopes, *file)
		if err != nil {
			return err
		}
		a, err := inv.admin()
		if err != nil {
			return err
		}
		api, err := a.CreateAPI(inv.ctx, *aud, *name, list)
		if err != nil {
			return err
		}
		return inv.print(apiView(api), apiDetail(api))
	}
}

func apisList(fs *flag.FlagSet) func(*invocation) error {
	return func(inv *invocation) error {
		a, err := inv.admin()
		if err != nil {
			return err
		}
		apis, err := a.ListAPIs(inv.ctx)
		if err != nil {
			return err
		}
		views := make([]apiJSON, len(apis))
		rows := make([][]string, len(apis))
		for i, api := range apis {
			views[i] = apiView(api)
			names := make([]string, len(api.Scopes))
			for j, s := range api.Scopes {
				names[j] = s.Name
			}
			rows[i] = []string{api.Audience, api.Name, strings.Join(names, " "), stamp(api.UpdatedAt)}
		}
		return inv.print(struct {
			APIs []apiJSON `json:"apis"`
		}{views}, table([]string{"AUDIENCE", "NAME", "SCOPES", "UPDATED"}, rows))
	}
}

func apisShow(fs *flag.FlagSet) func(*invocation) error {
	aud := fs.String("audience", "", "the API's audience")
	return func(inv *invocation) error {
		if err := required(inv, [2]string{"audience", *aud}); err != nil {
			return err
		}
		a, err := inv.admin()
		if err != nil {
			return err
		}
		api, err := a.GetAPI(inv.ctx, *aud)
		if err != nil {
			return err
		}
		return inv.print(apiView(api), apiDetail(api))
	}
}

func apisUpdate(fs *flag.FlagSet) func(*invocation) error {
	aud := fs.String("audience", "", "the API's audience")
	name := fs.String("name", "", "a new name")
	var scopes scopeFlags
	fs.Var(&scopes, "scope", `a scope, name="description":role,role (repeat; replaces every scope)`)
	file := fs.String("scopes-file", "", "a JSON file with the scopes (replaces every scope)")
	return func(inv *invocation) error {
		if err := required(inv, [2]string{"audience", *aud}); err != nil {
			return err
		}
		list, given, err := scopesFrom(inv, scopes, *file)
		if err != nil {
			return err
		}
		var change ops.APIChange
		if *name != "" {
			change.Name = name
		}
		if given {
			change.Scopes = &list
		}
		if change.Name == nil && change.Scopes == nil {
			return usagef("%s: nothing to change: give --name, --scope or --scopes-file", inv.name)
		}
		a, err := inv.admin()
		if err != nil {
			return err
		}
		api, err := a.UpdateAPI(inv.ctx, *aud, change)
		if err != nil {
			return err
		}
		return inv.print(apiView(api), apiDetail(api))
	}
}

func apisDelete(fs *flag.FlagSet) func(*invocation) error {
	aud := fs.String("audience", "", "the API's audience")
	return func(inv *invocation) error {
		if err := required(inv, [2]string{"audience", *aud}); err != nil {
			return err
		}
		a, err := inv.admin()
		if err != nil {
			return err
		}
		if err := a.DeleteAPI(inv.ctx, *aud); err != nil {
			return err
		}
		return inv.print(struct {
			Deleted string `json:"deleted"`
		}{*aud}, func(w io.Writer) { fmt.Fprintf(w, "Deleted API %s\n", *aud) })
	}
}

type apiScopeJSON struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Roles       []string `json:"roles"`
}

type apiJSON struct {
	Audience  string         `json:"audience"`
	Name      string         `json:"name"`
	Scopes    []apiScopeJSON `json:"scopes"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

func apiView(api domain.API) apiJSON {
	v := apiJSON{Audience: api.Audience, Name: api.Name, Scopes: []apiScopeJSON{}, CreatedAt: api.CreatedAt.UTC(), UpdatedAt: api.UpdatedAt.UTC()}
	for _, s := range api.Scopes {
		roles := []string{}
		for _, r := range s.Roles {
			roles = append(roles, string(r))
		}
		v.Scopes = append(v.Scopes, apiScopeJSON{Name: s.Name, Description: s.Description, Roles: roles})
	}
	return v
}

func apiDetail(api domain.API) func(io.Writer) {
	return func(w io.Writer) {
		fmt.Fprintf(w, "audience: %s\nname:     %s\nupdated:  %s\n\n", api.Audience, cell(api.Name), stamp(api.UpdatedAt))
		rows := make([][]string, len(api.Scopes))
		for i, s := range api.Scopes {
			roles := make([]string, len(s.Roles))
			for j, r := range s.Roles {
				roles[j] = string(r)
			}
			rows[i] = []string{s.Name, strings.Join(roles, ","), s.Description}
		}
		table([]string{"SCOPE", "ROLES", "DESCRIPTION"}, rows)(w)
	}
}

// ---------------------------------------------------------------- apps

// listFlag collects a comma-separated or repeated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

func appsCreate(fs *flag.FlagSet) func(*invocation) error {
	org := fs.String("org", "", "the organization's id")
	creator := fs.String("creator", "", "the member (id or email) who owns the application")
	name := fs.String("name", "", "the application's name")
	desc := fs.String("description", "", "what it is for (optional)")
	typ := fs.String("type", "", "spa or m2m")
	var callbacks, origins, logouts, scopes listFlag
	fs.Var(&callbacks, "callback", "a callback URL (SPA; repeat or comma-separate)")
	fs.Var(&origins, "origin", "an allowed origin (SPA; repeat or comma-separate)")
	fs.Var(&logouts, "logout-url", "a logout URL (SPA; repeat or comma-separate)")
	fs.Var(&scopes, "scopes", "scopes of registered APIs the creator's role holds (repeat or comma-separate)")
	return func(inv *invocation) error {
		if err := required(inv, [2]string{"org", *org}, [2]string{"creator", *creator}, [2]string{"name", *name}, [2]string{"type", *typ}); err != nil {
			return err
		}
		a, err := inv.admin()
		if err != nil {
			return err
		}
		app, secret, err := a.CreateApplication(inv.ctx, ops.NewApplication{
			OrganizationID: *org, Creator: *creator, Name: *name, Description: *desc, Type: domain.ClientType(*typ),
			CallbackURLs: callbacks, AllowedOrigins: origins, LogoutURLs: logouts, Scopes: scopes,
		})
		if err != nil {
			return err
		}
		if secret == "" {
			return inv.print(appView(app), appTable([]domain.Application{app}))
		}
		// The one and only time this secret is shown.
		return inv.print(struct {
			application
			ClientSecret string `json:"client_secret"`
		}{appView(app), secret}, func(w io.Writer) {
			appTable([]domain.Application{app})(w)
			fmt.Fprintf(w, "\nClient secret (shown only this once; store it now): %s\n", secret)
		})
	}
}

func appsShow(fs *flag.FlagSet) func(*invocation) error {
	id := fs.String("client-id", "", "the application's client id")
	return func(inv *invocation) error {
		if err := required(inv, [2]string{"client-id", *id}); err != nil {
			return err
		}
		a, err := inv.admin()
		if err != nil {
			return err
		}
		app, err := a.GetApplication(inv.ctx, *id)
		if err != nil {
			return err
		}
		return inv.print(appView(app), appTable([]domain.Application{app}))
	}
}

func appsDelete(fs *flag.FlagSet) func(*invocation) error {
	id := fs.String("client-id", "", "the application's client id")
	return func(inv *invocation) error {
		if err := required(inv, [2]string{"client-id", *id}); err != nil {
			return err
		}
		a, err := inv.admin()
		if err != nil {
			return err
		}
		n, err := a.DeleteApplication(inv.ctx, *id)
		if err != nil {
			return err
		}
		return inv.print(struct {
			Deleted         string `json:"deleted"`
			FamiliesRevoked int    `json:"families_revoked"`
		}{*id, n}, func(w io.Writer) {
			fmt.Fprintf(w, "Deleted application %s; revoked %d refresh-token families\n", *id, n)
		})
	}
}

func appsTransfer(fs *flag.FlagSet) func(*invocation) error {
	id := fs.String("client-id", "", "the application's client id")
	to := fs.String("to", "", "the enabled member (id or email) of its organization who takes it over")
	return func(inv *invocation) error {
		if err := required(inv, [2]string{"client-id", *id}, [2]string{"to", *to}); err != nil {
			return err
		}
		a, err := inv.admin()
		if err != nil {
			return err
		}
		app, err := a.TransferApplication(inv.ctx, *id, *to)
		if err != nil {
			return err
		}
		return inv.print(appView(app), appTable([]domain.Application{app}))
	}
}

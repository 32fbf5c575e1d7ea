package ops

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"orgauth/pkg/domain"
	"orgauth/pkg/domain/address"
	"orgauth/pkg/password"
)

// Store is what the operations need from a store; pkg/storage/dynamo's Store
// implements it. Errors wrap the domain sentinels.
type Store interface {
	CreateOrganization(ctx context.Context, o domain.Organization) error
	GetOrganization(ctx context.Context, id string) (domain.Organization, error)
	UpdateOrganization(ctx context.Context, id string, fn func(domain.Organization) (domain.Organization, error)) (domain.Organization, error)
	ListOrganizations(ctx context.Context) ([]domain.Organization, error)

	CreateUser(ctx context.Context, u domain.User) error
	GetUser(ctx context.Context, id string) (domain.User, error)
	GetUserByEmail(ctx context.Context, email string) (domain.User, error)
	UpdateUser(ctx context.Context, id string, fn func(domain.User) (domain.User, error)) (domain.User, error)
	ListUsers(ctx context.Context, orgID string) ([]domain.User, error)

	ListApplications(ctx context.Context, orgID string, limit int, cursor string) ([]domain.Application, string, error)
	CreateApplication(ctx context.Context, a domain.Application) error
	GetApplication(ctx context.Context, clientID string) (domain.Application, error)
	DeleteApplication(ctx context.Context, clientID string) error
	TransferApplication(ctx context.Context, clientID, from, to string, at time.Time) (domain.Application, error)

	CreateAPI(ctx context.Context, api domain.API) error
	GetAPI(ctx context.Context, audience string) (domain.API, error)
	UpdateAPI(ctx context.Context, audience string, fn func(domain.API) (domain.API, error)) (domain.API, error)
	DeleteAPI(ctx context.Context, audience string) error
	ListAPIs(ctx context.Context) ([]domain.API, error)

	Holdings
}

// InvalidError is an input that fails validation: which field, and why, in
// words an operator can act on. It never contains a password.
type InvalidError struct {
	Field  string // "name", "plan", "org", "email", "role", "password", "user"
	Reason string
}

func (e *InvalidError) Error() string { return "invalid " + e.Field + ": " + e.Reason }

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// sentinelError is a message for an operator that still matches a domain
// sentinel with errors.Is, without repeating the sentinel's text.
type sentinelError struct {
	msg      string
	sentinel error
}

func (e *sentinelError) Error() string { return e.msg }
func (e *sentinelError) Unwrap() error { return e.sentinel }

func wrapf(sentinel error, format string, args ...any) error {
	return &sentinelError{msg: fmt.Sprintf(format, args...), sentinel: sentinel}
}

// Limits on what operators type.
const (
	MaxNameLength  = 100 // organization and user names, in characters
	MaxEmailLength = 254 // RFC 5321 §4.5.3.1.3 (path) less the angle brackets
)

// Admin runs the operations against a store.
type Admin struct {
	store Store
	now   func() time.Time
	audit *Auditor // nil: no audit lines (audit.go)
	// loopbackStage: orgauth's own issuer is loopback (make run), the only
	// stage whose organizations may name a loopback SSO issuer.
	loopbackStage bool
}

// ForStage records orgauth's own issuer (the stage's ISSUER). Without it,
// or with a non-loopback one, an organization's SSO issuer on localhost or
// a loopback address is refused.
func (a *Admin) ForStage(issuer string) *Admin {
	u, err := url.Parse(issuer)
	a.loopbackStage = err == nil && domain.IsLoopback(u.Hostname())
	return a
}

// New returns an Admin on store; now is the clock (time.Now in main).
func New(store Store, now func() time.Time) *Admin {
	return &Admin{store: store, now: now}
}

func (a *Admin) timestamp() time.Time { return a.now().UTC() }

// ---------------------------------------------------------------- organizations

// CreateOrganization creates an organization named name (1 to 100
// characters, surrounding spaces trimmed) on plan.
func (a *Admin) CreateOrganization(ctx context.Context, name string, plan domain.Plan) (domain.Organization, error) {
	name, err := checkName("name", name, true)
	if err != nil {
		return domain.Organization{}, err
	}
	if err := checkPlan(plan); err != nil {
		return domain.Organization{}, err
	}
	now := a.timestamp()
	o := domain.Organization{ID: domain.NewID(), Name: name, Plan: plan, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := a.store.CreateOrganization(ctx, o); err != nil {
		return domain.Organization{}, fmt.Errorf("create organization: %w", err)
	}
	a.audit.Event(ctx, "organization_created", "organization_id", o.ID, "plan", string(o.Plan))
	return o, nil
}

// ListOrganizations returns every organization.
func (a *Admin) ListOrganizations(ctx context.Context) ([]domain.Organization, error) {
	orgs, err := a.store.ListOrganizations(ctx)
	if err != nil {
		return nil, fmt.Errorf("list organizations: %w", err)
	}
	return orgs, nil
}

// SetPlan moves an organization to plan. Setting the plan it already has
// changes nothing.
func (a *Admin) SetPlan(ctx context.Context, orgID string, plan domain.Plan) (domain.Organization, error) {
	if err := checkPlan(plan); err != nil {
		return domain.Organization{}, err
	}
	if err := checkOrgID(orgID); err != nil {
		return domain.Organization{}, err
	}
	var from domain.Plan
	o, err := a.store.UpdateOrganization(ctx, orgID, func(o domain.Organization) (domain.Organization, error) {
		from = o.Plan
		if o.Plan != plan {
			o.Plan, o.UpdatedAt = plan, a.timestamp()
		}
		return o, nil
	})
	if err != nil {
		return domain.Organization{}, orgError(orgID, err)
	}
	if from != plan {
		a.audit.Event(ctx, "organization_plan_changed", "organization_id", o.ID, "from", string(from), "to", string(plan))
	}
	return o, nil
}

// SetTokenQuota overrides the organization's monthly M2M token quota
// (tokens > 0), or goes back to its plan's (tokens == 0). The token
// function sees it within ORG_CACHE_TTL.
func (a *Admin) SetTokenQuota(ctx context.Context, orgID string, tokens int64) (domain.Organization, error) {
	if tokens < 0 {
		return domain.Organization{}, invalid("quota", "must be a number of tokens, or 0 for the plan's quota")
	}
	if err := checkOrgID(orgID); err != nil {
		return domain.Organization{}, err
	}
	var from int64
	o, err := a.store.UpdateOrganization(ctx, orgID, func(o domain.Organization) (domain.Organization, error) {
		from = o.TokenQuota
		if o.TokenQuota != tokens {
			o.TokenQuota, o.UpdatedAt = tokens, a.timestamp()
		}
		return o, nil
	})
	if err != nil {
		return domain.Organization{}, orgError(orgID, err)
	}
	if from != tokens {
		a.audit.Event(ctx, "organization_token_quota_changed", "organization_id", o.ID, "from", from, "to", tokens)
	}
	return o, nil
}

// ---------------------------------------------------------------- users

// CreateUser creates a user of organization orgID, which must exist. email
// must be a bare address (no display name) and is stored lower-cased; it
// must not belong to another user, in any case. name is optional. password
// must pass password.Check; only its argon2id hash is stored. With
// EmailVerified, the operator vouches that the address is the user's.
func (a *Admin) CreateUser(ctx context.Context, orgID, email, name string, role domain.Role, pw string, opts ...UserOption) (domain.User, error) {
	if err := checkOrgID(orgID); err != nil {
		return domain.User{}, err
	}
	email, err := CheckEmail(email)
	if err != nil {
		return domain.User{}, err
	}
	if name, err = checkName("name", name, false); err != nil {
		return domain.User{}, err
	}
	if role != domain.RoleAdmin && role != domain.RoleMember {
		return domain.User{}, invalid("role", "%q is not a role (admin or member)", role)
	}
	if err := password.Check(pw); err != nil {
		return domain.User{}, &InvalidError{Field: "password", Reason: err.Error()}
	}
	if _, err := a.store.GetOrganization(ctx, orgID); err != nil {
		return domain.User{}, orgError(orgID, err)
	}
	if err := a.CheckUserDomain(ctx, orgID, email); err != nil {
		return domain.User{}, err
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return domain.User{}, err
	}
	now := a.timestamp()
	u := domain.User{
		ID: domain.NewID(), OrganizationID: orgID, Email: email, Name: name, Role: role,
		PasswordHash: hash, CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	for _, o := range opts {
		o(&u)
	}
	if err := a.store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, domain.ErrAlreadyExists) {
			return domain.User{}, wrapf(domain.ErrAlreadyExists, "a user with email %s already exists", email)
		}
		return domain.User{}, fmt.Errorf("create user: %w", err)
	}
	a.audit.Event(ctx, "user_created", "user_id", u.ID, "organization_id", u.OrganizationID, "role", string(u.Role),
		"email_verified", u.EmailVerified)
	return u, nil
}

// UserOption sets an optional property of a user CreateUser creates.
type UserOption func(*domain.User)

// EmailVerified: the operator vouches that the address is the user's; ID
// tokens and /userinfo say email_verified: true.
func EmailVerified(u *domain.User) { u.EmailVerified = true }

// SetEmailVerified records whether the email of the user with id or, if it
// contains an @, email, is known to be theirs. Setting it to what it is
// changes nothing.
func (a *Admin) SetEmailVerified(ctx context.Context, idOrEmail string, verified bool) (domain.User, error) {
	u, err := a.findUser(ctx, idOrEmail)
	if err != nil {
		return domain.User{}, err
	}
	u, err = a.store.UpdateUser(ctx, u.ID, func(u domain.User) (domain.User, error) {
		if u.EmailVerified != verified {
			u.EmailVerified, u.UpdatedAt = verified, a.timestamp()
		}
		return u, nil
	})
	if err != nil {
		return domain.User{}, fmt.Errorf("update user %s: %w", idOrEmail, err)
	}
	a.audit.Event(ctx, "user_updated", "user_id", u.ID, "organization_id", u.OrganizationID, "email_verified", verified)
	return u, nil
}

// ListUsers returns the users of organization orgID, which must exist.
func (a *Admin) ListUsers(ctx context.Context, orgID string) ([]domain.User, error) {
	if err := a.orgExists(ctx, orgID); err != nil {
		return nil, err
	}
	users, err := a.store.ListUsers(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// DisableUser disables the user with id or, if it contains an @, email. The
// user can no longer sign in; disabling a disabled user changes nothing.
func (a *Admin) DisableUser(ctx context.Context, idOrEmail string) (domain.User, error) {
	u, err := a.findUser(ctx, idOrEmail)
	if err != nil {
		return domain.User{}, err
	}
	u, err = a.store.UpdateUser(ctx, u.ID, func(u domain.User) (domain.User, error) {
		if !u.Disabled {
			u.Disabled, u.UpdatedAt = true, a.timestamp()
		}
		return u, nil
	})
	if err != nil {
		return domain.User{}, fmt.Errorf("disable user %s: %w", idOrEmail, err)
	}
	// After the flag, so that no new session or family can start unseen:
	// sign-in and refresh refuse a disabled user.
	sessions, serr := EndSessionsOfUser(ctx, a.store, u.ID, a.timestamp())
	families, ferr := RevokeFamiliesOfUser(ctx, a.store, u.ID, a.timestamp())
	a.audit.Event(ctx, "user_disabled", "user_id", u.ID, "organization_id", u.OrganizationID,
		"sessions_ended", sessions, "families_revoked", families)
	if err := errors.Join(serr, ferr); err != nil {
		return u, fmt.Errorf("user %s is disabled, but ending what they hold failed (run the command again): %w", idOrEmail, err)
	}
	return u, nil
}

// EnableUser enables the user with id or, if it contains an @, email,
// again. Enabling an enabled user changes nothing.
func (a *Admin) EnableUser(ctx context.Context, idOrEmail string) (domain.User, error) {
	u, err := a.findUser(ctx, idOrEmail)
	if err != nil {
		return domain.User{}, err
	}
	u, err = a.store.UpdateUser(ctx, u.ID, func(u domain.User) (domain.User, error) {
		if u.Disabled {
			u.Disabled, u.UpdatedAt = false, a.timestamp()
		}
		return u, nil
	})
	if err != nil {
		return domain.User{}, fmt.Errorf("enable user %s: %w", idOrEmail, err)
	}
	a.audit.Event(ctx, "user_enabled", "user_id", u.ID, "organization_id", u.OrganizationID)
	return u, nil
}

// findUser reads the user with id or, if it contains an @, email (in
// CheckEmail's normal form, as stored).
func (a *Admin) findUser(ctx context.Context, idOrEmail string) (domain.User, error) {
	idOrEmail = strings.TrimSpace(idOrEmail)
	if idOrEmail == "" {
		return domain.User{}, invalid("user", "a user id or email is required")
	}
	var (
		u   domain.User
		err error
	)
	if strings.Contains(idOrEmail, "@") {
		email, cerr := CheckEmail(idOrEmail)
		if cerr != nil {
			return domain.User{}, cerr
		}
		u, err = a.store.GetUserByEmail(ctx, email)
	} else {
		u, err = a.store.GetUser(ctx, idOrEmail)
	}
	if errors.Is(err, domain.ErrNotFound) {
		return domain.User{}, wrapf(domain.ErrNotFound, "user %s does not exist", idOrEmail)
	} else if err != nil {
		return domain.User{}, fmt.Errorf("get user %s: %w", idOrEmail, err)
	}
	return u, nil
}

// ---------------------------------------------------------------- applications

// listPage is the page size ListApplications asks the store for.
const listPage = 100

// ListApplications returns every application of organization orgID, which
// must exist, in creation order, reading all pages.
func (a *Admin) ListApplications(ctx context.Context, orgID string) ([]domain.Application, error) {
	if err := a.orgExists(ctx, orgID); err != nil {
		return nil, err
	}
	var all []domain.Application
	cursor := ""
	for {
		page, next, err := a.store.ListApplications(ctx, orgID, listPage, cursor)
		if err != nil {
			return nil, fmt.Errorf("list applications: %w", err)
		}
		all = append(all, page...)
		if next == "" {
			return all, nil
		}
		if next == cursor {
			return nil, fmt.Errorf("list applications: the store returned the same cursor twice")
		}
		cursor = next
	}
}

// ---------------------------------------------------------------- validation

// CheckEmail validates an email address as operators type it: surrounding
// spaces trimmed, then address.NormalizeEmail (one @, no quoted local part,
// the domain in its IDNA ASCII form, ASCII lower-cased). It returns the
// normal form, which is what is stored and compared.
func CheckEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", invalid("email", "an email address is required")
	}
	if len(email) > MaxEmailLength {
		return "", invalid("email", "longer than %d characters", MaxEmailLength)
	}
	e, err := address.NormalizeEmail(email)
	if err != nil {
		return "", invalid("email", "%q is not a bare address such as alice@example.com: %v", email, err)
	}
	return e, nil
}

// checkName trims s and requires at most MaxNameLength characters of
// printable text; required names must not be empty.
func checkName(field, s string, required bool) (string, error) {
	s = strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		return "", invalid(field, "not valid UTF-8")
	case n == 0 && required:
		return "", invalid(field, "must not be empty")
	case n > MaxNameLength:
		return "", invalid(field, "must be at most %d characters (got %d)", MaxNameLength, n)
	}
	if domain.HasInvisible(s, false) || strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return "", invalid(field, "must not contain control, invisible or bidirectional formatting characters")
	}
	return s, nil
}

func checkPlan(p domain.Plan) error {
	if _, err := domain.ParsePlan(string(p)); err != nil {
		return invalid("plan", "%q is not a plan (one of %s)", p, planNames())
	}
	return nil
}

func planNames() string {
	names := make([]string, len(domain.Plans))
	for i, p := range domain.Plans {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}

func checkOrgID(id string) error {
	if strings.TrimSpace(id) == "" {
		return invalid("org", "an organization id is required")
	}
	return nil
}

func (a *Admin) orgExists(ctx context.Context, orgID string) error {
	_, err := a.orgOf(ctx, orgID)
	return err
}

// orgOf reads organization orgID, which must exist.
func (a *Admin) orgOf(ctx context.Context, orgID string) (domain.Organization, error) {
	if err := checkOrgID(orgID); err != nil {
		return domain.Organization{}, err
	}
	o, err := a.store.GetOrganization(ctx, orgID)
	if err != nil {
		return domain.Organization{}, orgError(orgID, err)
	}
	return o, nil
}

// orgError words a store error about organization id for an operator.
func orgError(id string, err error) error {
	if errors.Is(err, domain.ErrNotFound) {
		return wrapf(domain.ErrNotFound, "organization %s does not exist", id)
	}
	return fmt.Errorf("organization %s: %w", id, err)
}

package ops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"orgauth/pkg/domain"
)

// ---------------------------------------------------------------- registered APIs

// domainInvalid turns the domain's validation errors (of an API, of an
// application) into the operators' one.
func domainInvalid(err error) error {
	var ae *domain.APIError
	if errors.As(err, &ae) {
		return &InvalidError{Field: ae.Field, Reason: ae.Reason}
	}
	var fe *domain.FieldError
	if errors.As(err, &fe) {
		return &InvalidError{Field: fe.Field, Reason: fe.Reason}
	}
	return err
}

func apiError(audience string, err error) error {
	if errors.Is(err, domain.ErrNotFound) {
		return wrapf(domain.ErrNotFound, "API %s is not registered", audience)
	}
	return domainInvalid(err)
}

func scopeNames(api domain.API) []string {
	names := make([]string, len(api.Scopes))
	for i, s := range api.Scopes {
		names[i] = s.Name
	}
	return names
}

// CreateAPI registers an API (resource server) of the stage: its audience,
// name and scopes, each with a description and the roles that may hold it.
func (a *Admin) CreateAPI(ctx context.Context, audience, name string, scopes []domain.APIScope) (domain.API, error) {
	now := a.timestamp()
	api := domain.API{Audience: strings.TrimSpace(audience), Name: strings.TrimSpace(name), Scopes: scopes, CreatedAt: now, UpdatedAt: now, Version: 1}
	if api.Name == "" {
		api.Name = api.Audience
	}
	if err := api.Validate(); err != nil {
		return domain.API{}, domainInvalid(err)
	}
	if err := a.store.CreateAPI(ctx, api); err != nil {
		if errors.Is(err, domain.ErrAlreadyExists) {
			return domain.API{}, wrapf(domain.ErrAlreadyExists, "API %s is already registered", api.Audience)
		}
		return domain.API{}, fmt.Errorf("register API: %w", err)
	}
	a.audit.Event(ctx, "api_created", "audience", api.Audience, "scopes", scopeNames(api))
	return api, nil
}

// GetAPI reads a registered API.
func (a *Admin) GetAPI(ctx context.Context, audience string) (domain.API, error) {
	api, err := a.store.GetAPI(ctx, strings.TrimSpace(audience))
	if err != nil {
		return domain.API{}, apiError(audience, err)
	}
	return api, nil
}

// ListAPIs lists the registered APIs by audience.
func (a *Admin) ListAPIs(ctx context.Context) ([]domain.API, error) {
	apis, err := a.store.ListAPIs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list APIs: %w", err)
	}
	return apis, nil
}

// APIChange is what UpdateAPI changes; nil fields stay as they are.
type APIChange struct {
	Name   *string
	Scopes *[]domain.APIScope // replaces every scope
}

// UpdateAPI changes a registered API's name or replaces its scopes.
func (a *Admin) UpdateAPI(ctx context.Context, audience string, change APIChange) (domain.API, error) {
	audience = strings.TrimSpace(audience)
	var before []string
	api, err := a.store.UpdateAPI(ctx, audience, func(api domain.API) (domain.API, error) {
		before = scopeNames(api)
		if change.Name != nil {
			api.Name = strings.TrimSpace(*change.Name)
		}
		if change.Scopes != nil {
			api.Scopes = slices.Clone(*change.Scopes)
		}
		api.UpdatedAt = a.timestamp()
		return api, api.Validate()
	})
	if err != nil {
		return domain.API{}, apiError(audience, err)
	}
	a.audit.Event(ctx, "api_updated", "audience", api.Audience, "scopes_before", before, "scopes", scopeNames(api))
	return api, nil
}

// DeleteAPI removes a registered API: its scopes are no longer granted.
func (a *Admin) DeleteAPI(ctx context.Context, audience string) error {
	audience = strings.TrimSpace(audience)
	if err := a.store.DeleteAPI(ctx, audience); err != nil {
		return apiError(audience, err)
	}
	a.audit.Event(ctx, "api_deleted", "audience", audience)
	return nil
}

// BootstrapAPIs registers, without scopes, each of audiences (the stage's
// AUDIENCES) that is not registered yet, and returns those it registered.
// Running it again registers nothing: make run's seed and the deploy
// runbook call it on every start.
func (a *Admin) BootstrapAPIs(ctx context.Context, audiences []string) ([]domain.API, error) {
	var created []domain.API
	for _, aud := range audiences {
		aud = strings.TrimSpace(aud)
		if aud == "" {
			continue
		}
		if _, err := a.store.GetAPI(ctx, aud); err == nil {
			continue
		} else if !errors.Is(err, domain.ErrNotFound) {
			return created, fmt.Errorf("read API %s: %w", aud, err)
		}
		api, err := a.CreateAPI(ctx, aud, aud, nil)
		if errors.Is(err, domain.ErrAlreadyExists) {
			continue // registered meanwhile
		}
		if err != nil {
			return created, err
		}
		created = append(created, api)
	}
	return created, nil
}

// ---------------------------------------------------------------- applications

// NewApplication is what an operator gives to create an application.
type NewApplication struct {
	OrganizationID string
	Creator        string // the user id or email of the member who owns it
	Name           string
	Description    string
	Type           domain.ClientType
	CallbackURLs   []string
	AllowedOrigins []string
	LogoutURLs     []string
	Scopes         []string
}

// CreateApplication creates an application on behalf of a member of its
// organization, who becomes its creator: an enabled user of that
// organization whose role may hold every scope it names (scopes of
// registered APIs only). M2M applications need a plan that allows them;
// their secret is returned once and only its hash is stored.
func (a *Admin) CreateApplication(ctx context.Context, in NewApplication) (domain.Application, string, error) {
	org, err := a.orgOf(ctx, in.OrganizationID)
	if err != nil {
		return domain.Application{}, "", err
	}
	creator, err := a.member(ctx, org.ID, in.Creator, "creator")
	if err != nil {
		return domain.Application{}, "", err
	}
	name, err := checkName("name", in.Name, true)
	if err != nil {
		return domain.Application{}, "", err
	}
	desc, err := checkName("description", in.Description, false)
	if err != nil {
		return domain.Application{}, "", err
	}
	now := a.timestamp()
	app := domain.Application{
		OrganizationID: org.ID, Name: name, Description: desc, Type: in.Type,
		CallbackURLs: in.CallbackURLs, AllowedOrigins: in.AllowedOrigins, LogoutURLs: in.LogoutURLs,
		Scopes: domain.MergeScopes(in.Scopes), CreatedBy: creator.ID, CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	switch in.Type {
	case domain.ClientSPA:
		if len(app.CallbackURLs) == 0 {
			return domain.Application{}, "", invalid("callback_urls", "an SPA needs at least one callback URL")
		}
	case domain.ClientM2M:
		if len(app.CallbackURLs)+len(app.AllowedOrigins)+len(app.LogoutURLs) > 0 {
			return domain.Application{}, "", invalid("type", "M2M applications have no callback, logout URLs or origins")
		}
		if !org.Plan.AllowsM2M() {
			return domain.Application{}, "", invalid("type", "M2M applications need the %s plan or above; organization %s is on %s", domain.MinimumPlanForM2M, org.ID, org.Plan)
		}
	default:
		return domain.Application{}, "", invalid("type", "%q is not a type (spa or m2m)", in.Type)
	}
	// The rules the applications API applies: URLs, origins, scope syntax.
	if err := app.Validate(); err != nil {
		return domain.Application{}, "", domainInvalid(err)
	}
	if err := a.checkGrantable(ctx, creator, app.Scopes); err != nil {
		return domain.Application{}, "", err
	}
	var secret string
	if app.Type == domain.ClientM2M {
		secret, app.SecretHash = domain.NewSecret()
	}
	for attempt := 0; ; attempt++ {
		app.ClientID = domain.NewID()
		err = a.store.CreateApplication(ctx, app)
		if !errors.Is(err, domain.ErrAlreadyExists) || attempt == 2 {
			break
		}
	}
	if err != nil {
		return domain.Application{}, "", fmt.Errorf("create application: %w", err)
	}
	a.audit.Event(ctx, "application_created", "client_id", app.ClientID, "organization_id", app.OrganizationID,
		"type", string(app.Type), "created_by", app.CreatedBy, "scopes", app.Scopes)
	return app, secret, nil
}

// checkGrantable requires every scope to be defined by a registered API
// and held by the holder's role on it.
func (a *Admin) checkGrantable(ctx context.Context, holder domain.User, scopes []string) error {
	if len(scopes) == 0 {
		return nil
	}
	apis, err := a.store.ListAPIs(ctx)
	if err != nil {
		return fmt.Errorf("list APIs: %w", err)
	}
	for _, s := range scopes {
		defined, held := false, false
		for _, api := range apis {
			if api.Has(s) {
				defined = true
				held = held || slices.Contains(api.ScopesFor(holder.Role), s)
			}
		}
		switch {
		case !defined:
			return invalid("scopes", "%q is not a scope of any registered API (orgauthctl apis list)", s)
		case !held:
			return invalid("scopes", "%q may not be held by the %s role of %s", s, holder.Role, holder.Email)
		}
	}
	return nil
}

// GetApplication reads an application.
func (a *Admin) GetApplication(ctx context.Context, clientID string) (domain.Application, error) {
	app, err := a.store.GetApplication(ctx, strings.TrimSpace(clientID))
	if err != nil {
		return domain.Application{}, appError(clientID, err)
	}
	return app, nil
}

func appError(clientID string, err error) error {
	if errors.Is(err, domain.ErrNotFound) {
		return wrapf(domain.ErrNotFound, "application %s does not exist", clientID)
	}
	return fmt.Errorf("application %s: %w", clientID, err)
}

// DeleteApplication deletes an application and revokes its refresh-token
// families, and returns how many it revoked. It revokes before the delete,
// so that a failure leaves something to run again, and after, for a
// family started meanwhile.
func (a *Admin) DeleteApplication(ctx context.Context, clientID string) (int, error) {
	clientID = strings.TrimSpace(clientID)
	app, err := a.store.GetApplication(ctx, clientID)
	if err != nil {
		return 0, appError(clientID, err)
	}
	n, err := RevokeFamiliesOfClient(ctx, a.store, clientID, a.timestamp())
	if err != nil {
		return n, err
	}
	if err := a.store.DeleteApplication(ctx, clientID); err != nil {
		return n, appError(clientID, err)
	}
	m, err := RevokeFamiliesOfClient(ctx, a.store, clientID, a.timestamp())
	a.audit.Event(ctx, "application_deleted", "client_id", clientID, "organization_id", app.OrganizationID,
		"families_revoked", n+m)
	return n + m, err
}

// TransferApplication gives an application to another member of its
// organization: an enabled user whose role may hold every scope the
// application names. The audit line names both creators.
func (a *Admin) TransferApplication(ctx context.Context, clientID, to string) (domain.Application, error) {
	clientID = strings.TrimSpace(clientID)
	app, err := a.store.GetApplication(ctx, clientID)
	if err != nil {
		return domain.Application{}, appError(clientID, err)
	}
	user, err := a.member(ctx, app.OrganizationID, to, "to")
	if err != nil {
		return domain.Application{}, err
	}
	if user.ID == app.CreatedBy {
		return domain.Application{}, invalid("to", "%s already owns application %s", user.Email, clientID)
	}
	if err := a.checkGrantable(ctx, user, app.Scopes); err != nil {
		return domain.Application{}, err
	}
	from := app.CreatedBy
	app, err = a.store.TransferApplication(ctx, clientID, from, user.ID, a.timestamp())
	if errors.Is(err, domain.ErrConflict) {
		return domain.Application{}, wrapf(domain.ErrConflict, "application %s changed owner meanwhile; run the command again", clientID)
	}
	if err != nil {
		return domain.Application{}, appError(clientID, err)
	}
	a.audit.Event(ctx, "application_transferred", "client_id", clientID, "organization_id", app.OrganizationID,
		"from", from, "to", user.ID)
	return app, nil
}

// member reads the enabled user idOrEmail of organization orgID; field
// names the input in errors.
func (a *Admin) member(ctx context.Context, orgID, idOrEmail, field string) (domain.User, error) {
	if strings.TrimSpace(idOrEmail) == "" {
		return domain.User{}, invalid(field, "a user id or email is required")
	}
	u, err := a.findUser(ctx, idOrEmail)
	if err != nil {
		return domain.User{}, err
	}
	switch {
	case u.OrganizationID != orgID:
		return domain.User{}, invalid(field, "%s is not a member of organization %s", idOrEmail, orgID)
	case u.Disabled:
		return domain.User{}, invalid(field, "%s is disabled", idOrEmail)
	}
	return u, nil
}

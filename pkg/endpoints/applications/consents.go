package applications

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/ops"
	"orgauth/pkg/platform/httpx"
)

// consentStore is what the consent routes read and write: the user's
// consents, the registered APIs that name their scopes, and the refresh
// families a withdrawal revokes.
type consentStore interface {
	ListConsents(ctx context.Context, userID string) ([]domain.Consent, error)
	GetConsent(ctx context.Context, userID, clientID string) (domain.Consent, error)
	DeleteConsent(ctx context.Context, userID, clientID string) error
	GetAPI(ctx context.Context, audience string) (domain.API, error)
	ops.Holdings
}

// consentView is one consent as the API shows it to its user.
type consentView struct {
	ClientID string `json:"client_id"`
	// Application is the application's name; "" once it is deleted.
	Application            string             `json:"application"`
	ApplicationDescription string             `json:"application_description"`
	Scopes                 []consentScopeView `json:"scopes"`
	GrantedAt              time.Time          `json:"granted_at"`
	UpdatedAt              time.Time          `json:"updated_at"`
}

// consentScopeView is one approved scope: of an API (audience set), or an
// OpenID Connect scope, with its plain words.
type consentScopeView struct {
	Audience    string `json:"audience,omitempty"`
	API         string `json:"api,omitempty"`
	Scope       string `json:"scope"`
	Description string `json:"description"`
}

// userOnly refuses a machine's token: consents belong to users.
func userOnly(c caller) error {
	if c.Machine {
		return problem(http.StatusForbidden, "consents belong to users: an application's own token has none")
	}
	return nil
}

// listConsents serves GET /consents: the caller's own consents.
func (h *Handler) listConsents(w http.ResponseWriter, r *http.Request, c caller) error {
	if err := userOnly(c); err != nil {
		return err
	}
	ctx := r.Context()
	consents, err := h.store.ListConsents(ctx, c.Subject)
	if err != nil {
		return fmt.Errorf("list consents: %w", err)
	}
	apis := map[string]*domain.API{}
	out := []consentView{}
	for _, cs := range consents {
		v := consentView{ClientID: cs.ClientID, Scopes: []consentScopeView{}, GrantedAt: cs.GrantedAt.UTC(), UpdatedAt: cs.UpdatedAt.UTC()}
		app, err := h.store.GetApplication(ctx, cs.ClientID)
		switch {
		case err == nil:
			v.Application, v.ApplicationDescription = app.Name, app.Description
		case !errors.Is(err, domain.ErrNotFound):
			return fmt.Errorf("load application: %w", err)
		}
		for _, g := range cs.Scopes {
			aud, sc := domain.SplitConsentScope(g)
			sv := consentScopeView{Audience: aud, Scope: sc}
			if aud == "" {
				sv.Description, _ = domain.OpenIDScopeWords(sc)
				v.Scopes = append(v.Scopes, sv)
				continue
			}
			api, seen := apis[aud]
			if !seen {
				a, err := h.store.GetAPI(ctx, aud)
				switch {
				case err == nil:
					api = &a
				case !errors.Is(err, domain.ErrNotFound):
					return fmt.Errorf("load API: %w", err)
				}
				apis[aud] = api
			}
			if api != nil {
				sv.API = api.Name
				if d, ok := api.Scope(sc); ok {
					sv.Description = d.Description
				}
			}
			v.Scopes = append(v.Scopes, sv)
		}
		out = append(out, v)
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"consents": out})
	return nil
}

// withdrawConsent serves DELETE /consents/{client_id}: the caller withdraws
// their own consent, and the application's refresh tokens for them are
// revoked first, so that a failure leaves the consent to withdraw again.
func (h *Handler) withdrawConsent(w http.ResponseWriter, r *http.Request, c caller) error {
	if err := userOnly(c); err != nil {
		return err
	}
	ctx := r.Context()
	id := r.PathValue("client_id")
	if _, err := h.store.GetConsent(ctx, c.Subject, id); errors.Is(err, domain.ErrNotFound) {
		return problem(http.StatusNotFound, "you have no consent for this application")
	} else if err != nil {
		return fmt.Errorf("load consent: %w", err)
	}
	n, err := ops.RevokeFamiliesOfUserForClient(ctx, h.store, c.Subject, id, h.now())
	if err != nil {
		return fmt.Errorf("revoke refresh tokens: %w", err)
	}
	if err := h.store.DeleteConsent(ctx, c.Subject, id); err != nil && !errors.Is(err, domain.ErrNotFound) {
		return fmt.Errorf("delete consent: %w", err)
	}
	h.log.InfoContext(ctx, "audit", "event", "consent_withdrawn", "actor", c.Subject, "organization_id", c.OrgID,
		"client_id", id, "families_revoked", n, "request_id", httpx.RequestID(ctx), "source_ip", httpx.SourceIP(r))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

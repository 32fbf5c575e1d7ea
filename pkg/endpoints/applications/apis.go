package applications

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"orgauth/pkg/domain"
	"orgauth/pkg/platform/httpx"
)

// checkScopes requires each scope an application names, beyond kept, to
// be a scope of a registered API (else 422 naming the field) that the
// caller's role may hold (else 403 naming it): a member cannot give an
// application more than they hold.
func (h *Handler) checkScopes(ctx context.Context, c caller, scopes, kept []string) error {
	if len(scopes) == 0 {
		return nil
	}
	apis, err := h.store.ListAPIs(ctx)
	if err != nil {
		return fmt.Errorf("list APIs: %w", err)
	}
	return domain.CheckGrantable(apis, c.Role, scopes, kept)
}

// apiView is a registered API as members see it: the scopes an
// application may name, and which of them the caller may give one.
type apiView struct {
	Audience string      `json:"audience"`
	Name     string      `json:"name"`
	Scopes   []scopeView `json:"scopes"`
}

type scopeView struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Roles       []string `json:"roles"`
	// Grantable: the caller's role holds it, so they may give it to an
	// application.
	Grantable bool `json:"grantable"`
}

// apis answers GET /apis: every registered API of the stage with its
// scopes, for the console to offer. The registry is the stage's, the same
// for every organization; only grantable depends on the caller.
func (h *Handler) apis(w http.ResponseWriter, r *http.Request, c caller) error {
	apis, err := h.store.ListAPIs(r.Context())
	if err != nil {
		return fmt.Errorf("list APIs: %w", err)
	}
	out := struct {
		APIs []apiView `json:"apis"`
		Role string    `json:"role,omitempty"`
	}{APIs: []apiView{}, Role: string(c.Role)}
	for _, api := range apis {
		v := apiView{Audience: api.Audience, Name: api.Name, Scopes: []scopeView{}}
		for _, s := range api.Scopes {
			roles := make([]string, len(s.Roles))
			for i, r := range s.Roles {
				roles[i] = string(r)
			}
			v.Scopes = append(v.Scopes, scopeView{Name: s.Name, Description: s.Description, Roles: roles,
				Grantable: c.Role != "" && slices.Contains(s.Roles, c.Role)})
		}
		out.APIs = append(out.APIs, v)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

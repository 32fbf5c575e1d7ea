package logout

import (
	"net/http"

	"orgauth/pkg/endpoints/signinhttp"
	"orgauth/pkg/platform/required"
	"orgauth/pkg/signin"
)

// Handler serves GET /logout.
type Handler struct {
	svc  *signin.Service
	edge *signinhttp.Edge
}

// New returns the handler, or an error naming a missing dependency.
func New(svc *signin.Service, edge *signinhttp.Edge) (*Handler, error) {
	if err := required.Check("logout endpoint", required.Dep{Name: "Service", Value: svc},
		required.Dep{Name: "Edge", Value: edge}); err != nil {
		return nil, err
	}
	return &Handler{svc: svc, edge: edge}, nil
}

// Register mounts /logout and Auth0's /v2/logout on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("/logout", h)
	mux.HandleFunc("/v2/logout", h.v2)
}

// v2 is GET /v2/logout?client_id&returnTo, as Auth0's SDKs call it.
func (h *Handler) v2(w http.ResponseWriter, r *http.Request) {
	if !h.edge.GetOnly(w, r) {
		return
	}
	res, err := h.svc.LogoutV2(r.Context(), r.URL.RawQuery, h.edge.Browser(r))
	h.edge.Write(w, r, res, err)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.edge.GetOnly(w, r) {
		return
	}
	res, err := h.svc.Logout(r.Context(), r.URL.RawQuery, h.edge.Browser(r))
	h.edge.Write(w, r, res, err)
}

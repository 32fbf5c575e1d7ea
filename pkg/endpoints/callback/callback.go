package callback

import (
	"net/http"

	"orgauth/pkg/endpoints/signinhttp"
	"orgauth/pkg/platform/required"
	"orgauth/pkg/signin"
)

// Handler serves GET /callback/{org}, where organization org's provider
// returns its users, and GET /callback, the redirect URI providers shared
// before: no state is sent upstream with it any more, so an answer there
// completes nothing and is refused as a mix-up (pkg/signin/mixup.go).
type Handler struct {
	cb   *signin.Callback
	edge *signinhttp.Edge
}

// New returns the handler, or an error naming a missing dependency.
func New(cb *signin.Callback, edge *signinhttp.Edge) (*Handler, error) {
	if err := required.Check("callback endpoint", required.Dep{Name: "Callback", Value: cb},
		required.Dep{Name: "Edge", Value: edge}); err != nil {
		return nil, err
	}
	return &Handler{cb: cb, edge: edge}, nil
}

// Register mounts /callback and /callback/{org} on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("/callback", h)
	mux.Handle("/callback/{org}", h)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.edge.GetOnly(w, r) {
		return
	}
	b := h.edge.Browser(r)
	p, err := signin.ParseCallback(r.URL.RawQuery, r.PathValue("org"))
	if err != nil {
		h.edge.Write(w, r, signin.Result{}, err)
		return
	}
	res, err := h.cb.Complete(r.Context(), p, b)
	h.edge.Write(w, r, res, err)
}

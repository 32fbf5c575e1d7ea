package authorize

import (
	"net/http"

	"orgauth/pkg/endpoints/signinhttp"
	"orgauth/pkg/oauth"
	"orgauth/pkg/platform/required"
	"orgauth/pkg/signin"
)

// Handler serves GET /authorize, POST /login and POST /consent.
type Handler struct {
	svc  *signin.Service
	edge *signinhttp.Edge
}

// New returns the handler, or an error naming a missing dependency.
func New(svc *signin.Service, edge *signinhttp.Edge) (*Handler, error) {
	if err := required.Check("authorize endpoint", required.Dep{Name: "Service", Value: svc},
		required.Dep{Name: "Edge", Value: edge}); err != nil {
		return nil, err
	}
	return &Handler{svc: svc, edge: edge}, nil
}

// Register mounts /authorize, /login and /consent on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("/authorize", h.authorize)
	mux.HandleFunc("/login", h.login)
	mux.HandleFunc("/consent", h.consent) // consent.go
}

func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) {
	if !h.edge.GetOnly(w, r) {
		return
	}
	res, err := h.svc.Authorize(r.Context(), r.URL.RawQuery, h.edge.Browser(r))
	h.edge.Write(w, r, res, err)
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		h.edge.MethodNotAllowed(w, r, http.MethodPost)
		return
	}
	in := signin.Login{Origin: r.Header.Get("Origin"), Browser: h.edge.Browser(r)}
	// The origin is checked before the form is read.
	if in.Origin == "" || h.svc.FromIssuer(in.Origin) {
		form, err := parseLoginForm(r)
		if err != nil {
			h.edge.Refuse(w, r, signin.UnreadableForm())
			return
		}
		in.Form = form
	}
	res, err := h.svc.Login(r.Context(), in)
	h.edge.Write(w, r, res, err)
}

// parseLoginForm reads the sign-in form through the one form reader.
func parseLoginForm(r *http.Request) (signin.LoginValues, error) {
	f, err := oauth.ReadFormBody(r)
	if err != nil {
		return signin.LoginValues{}, err
	}
	_, hasPassword := f["password"]
	return signin.LoginValues{
		Transaction: f["transaction"], CSRFToken: f["csrf_token"],
		Email: f["email"], Password: f["password"], HasPassword: hasPassword,
	}, nil
}

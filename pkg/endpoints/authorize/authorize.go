package authorize

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"

	"orgauth/pkg/endpoints/signinhttp"
	"orgauth/pkg/platform/required"
	"orgauth/pkg/signin"
)

// Handler serves GET /authorize and POST /login.
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

// Register mounts /authorize and /login on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("/authorize", h.authorize)
	mux.HandleFunc("/login", h.login)
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
		form, err := parseLoginForm(w, r)
		if err != nil {
			h.edge.Refuse(w, r, signin.UnreadableForm())
			return
		}
		in.Form = form
	}
	res, err := h.svc.Login(r.Context(), in)
	h.edge.Write(w, r, res, err)
}

const maxFormBytes = 16 << 10

// parseLoginForm reads the form body, refusing repeated fields.
func parseLoginForm(w http.ResponseWriter, r *http.Request) (signin.LoginValues, error) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/x-www-form-urlencoded" {
		return signin.LoginValues{}, errors.New("not a form")
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err != nil {
		return signin.LoginValues{}, err
	}
	q, err := url.ParseQuery(string(b))
	if err != nil {
		return signin.LoginValues{}, err
	}
	for k, v := range q {
		if len(v) != 1 {
			return signin.LoginValues{}, errors.New("repeated field " + k)
		}
	}
	return signin.LoginValues{
		Transaction: q.Get("transaction"), CSRFToken: q.Get("csrf_token"),
		Email: q.Get("email"), Password: q.Get("password"), HasPassword: q.Has("password"),
	}, nil
}

package authorize

import (
	"net/http"

	"orgauth/pkg/oauth"
	"orgauth/pkg/signin"
)

// consent serves POST /consent: the user's answer on the consent page.
func (h *Handler) consent(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		h.edge.MethodNotAllowed(w, r, http.MethodPost)
		return
	}
	in := signin.ConsentPost{Origin: r.Header.Get("Origin"), Browser: h.edge.Browser(r)}
	// The origin is checked before the form is read.
	if h.svc.FromIssuer(in.Origin) {
		f, err := oauth.ReadFormBody(r)
		if err != nil {
			h.edge.Refuse(w, r, signin.UnreadableConsent())
			return
		}
		in.Form = signin.ConsentValues{Transaction: f["transaction"], CSRFToken: f["csrf_token"], Decision: f["decision"]}
	}
	res, err := h.svc.Consent(r.Context(), in)
	h.edge.Write(w, r, res, err)
}

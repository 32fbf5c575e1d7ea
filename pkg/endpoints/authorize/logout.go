package authorize

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"orgauth/pkg/domain"
	"orgauth/pkg/jwt"
)

// logout is OpenID Connect RP-Initiated Logout 1.0 §2: it ends the
// browser's session and returns to post_logout_redirect_uri when that is
// registered, character for character, as a logout URL of the application
// (named by client_id or by the id_token_hint's audience); otherwise it
// shows a signed-out page.
//
// Without an id_token_hint, §2 suggests asking the user to confirm; orgauth
// signs out without asking: a forged logout only ends a session, which the
// user starts again with a password.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if !h.getOnly(w, r) {
		return
	}
	ctx := r.Context()
	bad := func(msg string) {
		h.log.InfoContext(ctx, "logout request refused", "event", "logout_refused", "request_id", requestID(r), "reason", msg)
		h.errorPage(w, r, http.StatusBadRequest, "Invalid sign-out request", msg)
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		bad("The sign-out link is malformed.")
		return
	}
	p, repeated := single(q)
	if repeated != "" {
		bad("The sign-out link repeats " + repeated + ".")
		return
	}
	clientID, target := p["client_id"], p["post_logout_redirect_uri"]
	if hint := p["id_token_hint"]; hint != "" {
		aud, err := h.verifyIDTokenHint(ctx, hint)
		if err != nil {
			h.log.InfoContext(ctx, "id_token_hint refused", "request_id", requestID(r), "error", err.Error())
			bad("The sign-out link carries a token this server did not issue.")
			return
		}
		switch {
		case clientID == "" && len(aud) == 1:
			clientID = aud[0]
		case clientID != "" && !slices.Contains(aud, clientID):
			bad("The sign-out link's token was not issued to the application it names.")
			return
		}
	}
	if target != "" {
		if clientID == "" {
			bad("The sign-out link names no application (client_id or id_token_hint), so its return address cannot be checked.")
			return
		}
		app, err := h.store.GetApplication(ctx, clientID)
		if errors.Is(err, domain.ErrNotFound) {
			bad("The application that sent you here is not known to this server.")
			return
		}
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		if !slices.Contains(app.LogoutURLs, target) {
			bad("The address this application asked to return to after sign-out is not registered for it, so you were not sent there.")
			return
		}
	}

	if v := h.cookie(r, sessionCookie); v != "" {
		err := h.store.DeleteSession(ctx, domain.HashSecret(v))
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			h.serverError(w, r, err)
			return
		}
		h.log.InfoContext(ctx, "signed out", "event", "logout", "request_id", requestID(r), "client_id", clientID)
	}
	h.setCookie(w, sessionCookie, "", -1)
	if target == "" {
		h.render(w, r, http.StatusOK, page{Title: "Signed out", Message: "You are now signed out. You can close this window."}, "")
		return
	}
	u, _ := url.Parse(target) // registered, so valid
	if s := p["state"]; s != "" {
		v := u.Query()
		v.Set("state", s)
		u.RawQuery = v.Encode()
	}
	h.redirect(w, r, u.String())
}

// verifyIDTokenHint checks that raw was signed by one of this server's
// published keys and names it as iss, and returns its audience. An expired
// token is fine: RP-Initiated Logout §2 has the OP accept ID tokens past
// their exp (an RP often logs out long after its ID token expired).
func (h *Handler) verifyIDTokenHint(ctx context.Context, raw string) ([]string, error) {
	if h.keys == nil {
		return nil, errors.New("no key set")
	}
	c, err := jwt.NewVerifier(h.cfg.Issuer, h.keys, h.now).VerifyIDTokenHint(ctx, raw)
	return c.Audience, err
}

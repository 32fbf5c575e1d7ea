package signinhttp

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"orgauth/pkg/platform/httpx"
	"orgauth/pkg/platform/unavailable"
	"orgauth/pkg/signin"
)

// Cookie names. __Host- (RFC 6265bis §4.1.3.2) pins a cookie to this exact
// host, https and Path=/, so a sibling subdomain cannot plant or read it.
// Browsers only accept it with Secure, which they only set over https: with
// an http issuer (loopback only, for local development) the cookies drop
// the prefix and Secure.
var cookieNames = map[signin.CookieName]string{
	signin.SessionCookie:    "orgauth_session",
	signin.CSRFCookie:       "orgauth_csrf",
	signin.SSOBindingCookie: "orgauth_sso",
	signin.DeviceCookie:     "orgauth_device",
}

// Edge reads sign-in requests and writes sign-in outcomes.
type Edge struct {
	log    *slog.Logger
	secure bool // https issuer: Secure, __Host- cookies
}

// New returns the edge of the stage whose issuer is issuer.
func New(log *slog.Logger, issuer string) *Edge {
	return &Edge{log: log, secure: signin.SecureCookies(issuer)}
}

// CookieName is name's name on the wire.
func (e *Edge) CookieName(name signin.CookieName) string {
	if e.secure {
		return "__Host-" + cookieNames[name]
	}
	return cookieNames[name]
}

func (e *Edge) cookie(r *http.Request, name signin.CookieName) string {
	c, err := r.Cookie(e.CookieName(name))
	if err != nil {
		return ""
	}
	return c.Value
}

// Browser is what the core may know of the browser behind r.
func (e *Edge) Browser(r *http.Request) signin.Browser {
	return signin.Browser{
		Cookies: signin.Cookies{
			Session:    e.cookie(r, signin.SessionCookie),
			CSRF:       e.cookie(r, signin.CSRFCookie),
			SSOBinding: e.cookie(r, signin.SSOBindingCookie),
			Device:     e.cookie(r, signin.DeviceCookie),
		},
		SourceIP:  httpx.SourceIP(r),
		RequestID: httpx.RequestID(r.Context()),
	}
}

// Write writes what the core decided: res's cookies always, then its
// outcome, or err as a page.
func (e *Edge) Write(w http.ResponseWriter, r *http.Request, res signin.Result, err error) {
	for _, c := range res.Cookies {
		http.SetCookie(w, &http.Cookie{
			Name: e.CookieName(c.Name), Value: c.Value, Path: "/", MaxAge: c.MaxAge,
			HttpOnly: true, Secure: e.secure, SameSite: http.SameSiteLaxMode,
		})
	}
	var refusal *signin.Refusal
	switch {
	case errors.As(err, &refusal):
		e.Refuse(w, r, refusal)
		return
	case err != nil:
		e.ServerError(w, r, err)
		return
	}
	switch o := res.Outcome.(type) {
	case signin.Redirect:
		redirect(w, o.URL)
	case signin.Upstream:
		redirect(w, o.URL)
	case signin.Page:
		e.Render(w, r, o)
	case signin.WebMessage:
		e.webMessage(w, r, o)
	default:
		e.ServerError(w, r, errors.New("sign-in decided nothing"))
	}
}

// redirect is a 303 See Other, which turns the POST of the login form into a
// GET of the client's page; with no-store, since it carries a code.
func redirect(w http.ResponseWriter, to string) {
	w.Header().Set("Location", to)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusSeeOther)
}

// Refuse shows a refusal as a page.
func (e *Edge) Refuse(w http.ResponseWriter, r *http.Request, refusal *signin.Refusal) {
	if refusal.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(refusal.RetryAfter.Seconds()+0.5)))
	}
	e.errorPage(w, r, refusal.Status, refusal.Title, refusal.Message)
}

// ServerError logs err with the request id and shows a page that says
// nothing of it.
func (e *Edge) ServerError(w http.ResponseWriter, r *http.Request, err error) {
	if unavailable.Is(err) { // DynamoDB or KMS down or slow: a 503 that says when to retry
		e.log.WarnContext(r.Context(), "dependency unavailable", "request_id", httpx.RequestID(r.Context()), "error", err.Error())
		w.Header().Set("Retry-After", strconv.Itoa(unavailable.RetryAfter))
		e.errorPage(w, r, http.StatusServiceUnavailable, "Temporarily unavailable",
			"The server cannot complete your sign-in right now. Try again in a moment.")
		return
	}
	e.log.ErrorContext(r.Context(), "server error", "request_id", httpx.RequestID(r.Context()), "error", err.Error())
	e.errorPage(w, r, http.StatusInternalServerError, "Something went wrong",
		"The server could not complete your sign-in. Try again in a moment.")
}

// GetOnly answers any method but GET and HEAD with 405, and reports
// whether the request may go on.
func (e *Edge) GetOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	e.MethodNotAllowed(w, r, "GET, HEAD")
	return false
}

// MethodNotAllowed answers a wrong method with 405 and Allow, as a page.
func (e *Edge) MethodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	e.errorPage(w, r, http.StatusMethodNotAllowed, "Method not allowed", "This address does not accept that kind of request (only "+allow+").")
}

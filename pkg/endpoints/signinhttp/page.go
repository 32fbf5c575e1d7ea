package signinhttp

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"orgauth/pkg/platform/httpx"
	"orgauth/pkg/signin"
)

//go:embed templates/style.css
var files embed.FS

var (
	style = mustRead("templates/style.css")
	// styleHash lets the inline stylesheet through the CSP, and nothing else.
	styleHash = func() string {
		sum := sha256.Sum256([]byte(style))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}()
)

func mustRead(name string) string {
	b, err := files.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// page is what the one page shows (html.go): the login form when Login is set,
// otherwise a message.
type page struct {
	Title     string
	Error     string
	Message   string
	Login     *signin.LoginForm
	Consent   *signin.ConsentForm
	RequestID string
	Style     string // trusted: the embedded stylesheet
}

// Render writes p with the headers every page carries. p's form targets
// are where the form's POST may end up: the redirect_uri, and with SSO the
// upstream provider's authorization endpoint. Browsers apply form-action to
// the redirects that follow a form submission, so their origins join
// 'self' there.
func (e *Edge) Render(w http.ResponseWriter, r *http.Request, p signin.Page) {
	status := p.Status
	if status == 0 {
		status = http.StatusOK
	}
	v := page{Title: p.Title, Error: p.Error, Message: p.Message, Login: p.Login, Consent: p.Consent, Style: style}
	if status >= 400 {
		v.RequestID = httpx.RequestID(r.Context())
	}
	body := v.html()
	formAction := "'self'"
	for _, target := range p.FormTargets {
		if u, err := url.Parse(target); err == nil && u.Scheme != "" && u.Host != "" && !strings.ContainsAny(u.Host, " ;,'") {
			formAction += " " + u.Scheme + "://" + u.Host
		}
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src "+styleHash+"; form-action "+formAction+
		"; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: with no-referrer, browsers send
	// "Origin: null" on the form's POST, which the origin check refuses.
	// Other sites (the application included) still get no referrer, so the
	// request's URL never leaks.
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// errorPage shows an error that must not be redirected: an unknown client, a
// redirect URI that is not registered, a broken form.
func (e *Edge) errorPage(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	e.Render(w, r, signin.Page{Status: status, Title: title, Error: msg})
}

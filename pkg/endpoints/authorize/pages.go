package authorize

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"orgauth/pkg/platform/httpx"
)

//go:embed templates/page.html templates/style.css
var files embed.FS

var (
	pageTemplate = template.Must(template.ParseFS(files, "templates/page.html"))
	style        = mustRead("templates/style.css")
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

// page is what the one template shows: the login form when Login is set,
// otherwise a message.
type page struct {
	Title     string
	Error     string
	Message   string
	Login     *loginForm
	RequestID string
	Style     template.CSS
}

type loginForm struct {
	AppName     string
	Transaction string
	CSRFToken   string
	Email       string
	// EmailOnly is the first step where the organization has its own SSO:
	// the email decides whether the user signs in upstream or here.
	EmailOnly bool
}

// render writes a page with the headers every page carries. formTargets
// are where the form's POST may end up: the redirect_uri, and with SSO the
// upstream provider's authorization endpoint. Browsers apply form-action to
// the redirects that follow a form submission, so their origins join
// 'self' there.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, p page, formTargets ...string) {
	p.Style = template.CSS(style)
	if status >= 400 {
		p.RequestID = httpx.RequestID(r.Context())
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p); err != nil {
		h.log.ErrorContext(r.Context(), "render page", "request_id", httpx.RequestID(r.Context()), "error", err.Error())
		status, buf = http.StatusInternalServerError, *bytes.NewBufferString("Internal error\n")
	}
	formAction := "'self'"
	for _, target := range formTargets {
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
	_, _ = w.Write(buf.Bytes())
}

// errorPage shows an error that must not be redirected: an unknown client, a
// redirect URI that is not registered, a broken form.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	h.render(w, r, status, page{Title: title, Error: msg})
}

func (h *Handler) tooManyAttempts(w http.ResponseWriter, r *http.Request, retry time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds()+0.5)))
	h.errorPage(w, r, http.StatusTooManyRequests, "Too many attempts",
		"Too many failed sign-in attempts. Wait a few minutes, then try again.")
}

// getOnly answers any method but GET and HEAD with 405, and reports
// whether the request may go on.
func (h *Handler) getOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	h.methodNotAllowed(w, r, "GET, HEAD")
	return false
}

// methodNotAllowed answers a wrong method with 405 and Allow, as a page.
func (h *Handler) methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	h.errorPage(w, r, http.StatusMethodNotAllowed, "Method not allowed", "This address does not accept "+r.Method+" requests.")
}

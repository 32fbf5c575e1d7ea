package signin

import "time"

// Browser is what sign-in knows of the browser behind a request.
type Browser struct {
	Cookies   Cookies
	SourceIP  string
	RequestID string // for the logs only
}

// Cookies are the values of the browser's sign-in cookies, "" when absent.
type Cookies struct {
	// Session is the single sign-on session's secret.
	Session string
	// CSRF is the per-browser secret repeated in the login form.
	CSRF string
	// SSOBinding binds an SSO transaction to the browser that started it.
	SSOBinding string
	// Device is the device cookie of an earlier password sign-in.
	Device string
}

// CookieName names one of the sign-in cookies; the HTTP edge decides its
// name on the wire.
type CookieName int

const (
	SessionCookie CookieName = iota
	CSRFCookie
	SSOBindingCookie
	// DeviceCookie is the device cookie a password sign-in earns
	// (device.go).
	DeviceCookie
)

// SetCookie is a cookie for the browser to keep for MaxAge seconds (0: for
// the browser's session) or, with MaxAge < 0, to drop.
type SetCookie struct {
	Name   CookieName
	Value  string
	MaxAge int
}

// Outcome is what the browser is shown next: a Redirect, a Page or an
// Upstream hand-off.
type Outcome interface{ outcome() }

// Redirect sends the browser to URL: the application's redirect_uri with a
// code or an error, or its logout URL.
type Redirect struct{ URL string }

// Upstream sends the browser to the organization's own provider; the
// binding cookie it needs travels in the Result's cookies.
type Upstream struct{ URL string }

// Page is a page to show: the login form when Login is set, otherwise a
// message (Error, or Message).
type Page struct {
	Status  int
	Title   string
	Error   string
	Message string
	Login   *LoginForm
	Consent *ConsentForm // the consent page (consent.go)
	// FormTargets are where the form's POST may end up: the redirect_uri,
	// and with SSO the provider's authorization endpoint.
	FormTargets []string
}

// LoginForm is the login form's model.
type LoginForm struct {
	AppName     string
	Transaction string
	CSRFToken   string
	Email       string
	// EmailOnly is the first step where the organization has its own SSO:
	// the email decides whether the user signs in upstream or here.
	EmailOnly bool
}

// WebMessage is an authorization response by web message
// (response_mode=web_message): a page that posts {type:
// "authorization_response", response: Response} to the window that opened
// or framed it, for TargetOrigin only: the origin of the registered
// redirect_uri. Only that origin may frame it.
type WebMessage struct {
	TargetOrigin string
	Response     map[string]string
}

func (WebMessage) outcome() {}
func (Redirect) outcome()   {}
func (Upstream) outcome()   {}
func (Page) outcome()       {}

// Result is an Outcome with the cookies to set. The cookies are set even
// when an error comes with the Result.
type Result struct {
	Outcome Outcome
	Cookies []SetCookie
}

func (r *Result) setCookie(name CookieName, value string, maxAge int) {
	r.Cookies = append(r.Cookies, SetCookie{Name: name, Value: value, MaxAge: maxAge})
}

// Refusal is a refusal meant for the user, shown as a page and never
// redirected: RFC 6749 §4.1.2.1, "If the request fails due to a missing,
// invalid, or mismatching redirection URI, or if the client identifier is
// missing or invalid, the authorization server SHOULD inform the resource
// owner of the error and MUST NOT automatically redirect the user-agent to
// the invalid redirection URI."
type Refusal struct {
	Status  int    // an HTTP status: 400, 403, 429, 502, 503
	Title   string // the page's title
	Message string // what the user reads
	// Reason is a short word for the logs, never shown.
	Reason string
	// RetryAfter, when set, is how long until trying again may work.
	RetryAfter time.Duration
}

func (e *Refusal) Error() string { return e.Title + ": " + e.Message }

func refuse(status int, title, msg string) *Refusal {
	return &Refusal{Status: status, Title: title, Message: msg}
}

// Refusals shared by several steps.
var (
	errExpired = func(reason string) *Refusal {
		return &Refusal{Status: 400, Title: "Sign-in expired", Reason: reason,
			Message: "This sign-in has expired or was already used. Go back to the application and sign in again."}
	}
	errAppGone = func() *Refusal {
		return refuse(400, "Unknown application", "The application you were signing in to no longer exists.")
	}
)

// UnreadableForm is the refusal of a login form that cannot be read: not
// a form, too large, or with a repeated field.
func UnreadableForm() *Refusal {
	return refuse(400, "Invalid request", "The sign-in form could not be read.")
}

package console

import (
	"embed"
	"fmt"
	"html"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strings"

	"orgauth/pkg/domain"
	"orgauth/pkg/platform/httpx"
)

// dist holds the Vite build under dist/app (see dist/README.md).
//
//go:embed all:dist
var dist embed.FS

// CSP is the policy of every answer: scripts, styles and API calls from this
// origin only (the console is served by the same API as the issuer), no
// frames, no forms to anywhere else.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Prefix is where the console lives on the API.
const Prefix = "/console"

// Config lists the settings the console reads.
type Config struct {
	Issuer   string // the issuer, which is also this API's origin
	ClientID string // the console's client (domain.ConsoleClientID), defined by the stack
	Audience string // the management audience the console asks tokens for
}

// Handler serves the console.
type Handler struct {
	cfg    Config
	log    *slog.Logger
	files  fs.FS // the built app, or nil when it was not built
	index  []byte
	config clientConfig
}

// clientConfig is /console/config.json.
type clientConfig struct {
	Issuer                string `json:"issuer"`
	ClientID              string `json:"client_id"`
	RedirectURI           string `json:"redirect_uri"`
	PostLogoutRedirectURI string `json:"post_logout_redirect_uri"`
	Audience              string `json:"audience"`
	Scope                 string `json:"scope"`
}

// New returns the console. It serves a page that says what is missing when
// the assets were not built.
func New(cfg Config, log *slog.Logger) *Handler {
	return newHandler(cfg, log, dist)
}

func newHandler(cfg Config, log *slog.Logger, root fs.FS) *Handler {
	base := strings.TrimSuffix(cfg.Issuer, "/")
	if cfg.ClientID == "" {
		cfg.ClientID = domain.ConsoleClientID
	}
	h := &Handler{cfg: cfg, log: log, config: clientConfig{
		Issuer: cfg.Issuer, ClientID: cfg.ClientID,
		RedirectURI: base + Prefix + "/callback", PostLogoutRedirectURI: base + Prefix + "/",
		Audience: cfg.Audience,
		// offline_access: the console keeps tokens in memory only and renews
		// them by refresh-token rotation.
		Scope: "openid profile email offline_access",
	}}
	if app, err := fs.Sub(root, "dist/app"); err == nil {
		if b, err := fs.ReadFile(app, "index.html"); err == nil {
			h.files, h.index = app, b
		}
	}
	return h
}

// Routes returns the handler for GET /console and GET /console/{path+}.
func (h *Handler) Routes() http.Handler {
	return http.HandlerFunc(h.serve)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	// The callback URL carries the authorization code: never send it on.
	hd.Set("Referrer-Policy", "no-referrer")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		httpx.MethodNotAllowed(w, http.MethodGet, http.MethodHead)
		return
	}
	rel, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok || (rel != "" && !strings.HasPrefix(rel, "/")) {
		http.NotFound(w, r)
		return
	}
	rel = strings.TrimPrefix(rel, "/")
	switch {
	case h.files == nil:
		h.page(w, http.StatusServiceUnavailable, "Console not built",
			"This binary was built without the console's assets. Build it with make, which builds web/console first.")
	case rel == "config.json":
		hd.Set("Cache-Control", "no-store")
		httpx.WriteJSON(w, http.StatusOK, h.config)
	case strings.HasPrefix(rel, "assets/"):
		h.asset(w, r, rel)
	default:
		// Every other path is a page of the application, which routes it
		// in the browser.
		hd.Set("Content-Type", "text/html; charset=utf-8")
		hd.Set("Cache-Control", "no-cache")
		_, _ = w.Write(h.index)
	}
}

// asset serves a built file. Vite puts a content hash in every name under
// assets/, so they never change and may be cached for a year.
func (h *Handler) asset(w http.ResponseWriter, r *http.Request, rel string) {
	if !fs.ValidPath(rel) || path.Clean(rel) != rel {
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(h.files, rel)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ctype := mime.TypeByExtension(path.Ext(rel))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	_, _ = w.Write(b)
}

// page is a plain HTML answer, for a console that cannot run. (No
// html/template: its reflection would keep every exported method of the
// binary alive and add megabytes to the bootstrap.)
func (h *Handler) page(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	t, x := html.EscapeString(title), html.EscapeString(text)
	if _, err := fmt.Fprintf(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>%s · orgauth</title></head>
<body><main><h1>%s</h1><p>%s</p></main></body></html>
`, t, t, x); err != nil {
		h.log.Debug("console page", "error", err.Error())
	}
}

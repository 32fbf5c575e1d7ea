package userinfo

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/jwt"
	"orgauth/pkg/oauth"
	"orgauth/pkg/oauth/bearer"
	"orgauth/pkg/platform/cors"
	"orgauth/pkg/platform/httpx"
	"orgauth/pkg/platform/required"
)

// AccessTokens verifies this server's access tokens.
type AccessTokens interface {
	VerifyAccessToken(ctx context.Context, raw, audience string) (jwt.AccessClaims, error)
}

// UserStore is what /userinfo reads: the user, the client (for CORS) and
// the revoked access-token list.
type UserStore interface {
	GetUser(ctx context.Context, id string) (domain.User, error)
	GetApplication(ctx context.Context, clientID string) (domain.Application, error)
	IsJTIRevoked(ctx context.Context, jti string, now time.Time) (bool, error)
}

// Deps is everything /userinfo needs; every field is required.
type Deps struct {
	Verifier AccessTokens
	Store    UserStore
	CORS     *cors.Policy
	Log      *slog.Logger
	Now      func() time.Time
}

// Config lists the settings /userinfo reads.
type Config struct {
	// Issuer is this server's "iss".
	Issuer string
	// Audiences are the APIs of this stage. /userinfo accepts an access
	// token for any of them, or for the issuer itself (what a sign-in that
	// asked for no API gets): all are tokens this server issued to a user,
	// and the openid scope, checked below, is what grants userinfo.
	Audiences []string
}

// Handler serves GET/POST /userinfo, OpenID Connect Core §5.3.
type Handler struct {
	store  UserStore
	cors   *cors.Policy
	log    *slog.Logger
	now    func() time.Time
	bearer *bearer.Authenticator
}

// New returns the /userinfo handler, or an error naming a missing
// dependency.
func New(d Deps, cfg Config) (*Handler, error) {
	if err := required.Check("userinfo endpoint", required.Dep{Name: "Verifier", Value: d.Verifier},
		required.Dep{Name: "Store", Value: d.Store}, required.Dep{Name: "CORS", Value: d.CORS},
		required.Dep{Name: "Log", Value: d.Log}, required.Dep{Name: "Now", Value: d.Now}); err != nil {
		return nil, err
	}
	auds := slices.Clone(cfg.Audiences)
	if !slices.Contains(auds, cfg.Issuer) {
		auds = append(auds, cfg.Issuer)
	}
	auth := bearer.New(d.Verifier, d.Store, bearer.Config{Audiences: auds}, d.Now)
	return &Handler{store: d.Store, cors: d.CORS, log: d.Log, now: d.Now, bearer: auth}, nil
}

// Routes serves /userinfo, with CORS preflights answered by the policy.
func (h *Handler) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/userinfo", h.cors.Preflight("GET, POST", cors.BrowserHeaders, http.HandlerFunc(h.userinfo)))
	return mux
}

type userInfoResponse struct {
	Subject       string `json:"sub"`
	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
	Name          string `json:"name,omitempty"`
	OrgID         string `json:"org_id,omitempty"`
}

// userinfo answers with the claims of the token's user that its scopes
// release (§5.3.2, §5.4). Errors follow RFC 6750 §3: 401 with
// WWW-Authenticate, error invalid_token; 403 insufficient_scope.
//
// CORS: preflights are answered by the policy (Routes) for the origins
// applications allow; the actual response is readable only by an origin in
// the token's client's allowed_origins.
func (h *Handler) userinfo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Add("Vary", "Origin")
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		httpx.MethodNotAllowed(w, http.MethodGet, http.MethodPost)
		return
	}
	ctx := r.Context()
	unavailable := func(err error) {
		h.log.ErrorContext(ctx, "userinfo failed", "request_id", httpx.RequestID(ctx), "error", err.Error())
		w.Header().Set("Retry-After", "1")
		httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable", "error_description": "retry shortly"})
	}
	// refuse answers RFC 6750 §3: the challenge, and the same error in
	// the body (invalid_request when the request had no token).
	refuse := func(err error) {
		var e *bearer.Error
		if !errors.As(err, &e) || e.Status == http.StatusServiceUnavailable {
			unavailable(err)
			return
		}
		code := e.Code
		if code == "" {
			code = bearer.CodeInvalidRequest
		}
		w.Header().Set("WWW-Authenticate", e.WWWAuthenticate())
		httpx.WriteJSON(w, e.Status, map[string]string{"error": code, "error_description": e.Description})
	}
	raw, err := h.bearer.Token(r)
	if err != nil {
		refuse(err)
		return
	}
	claims, err := h.bearer.Verify(ctx, raw)
	if err != nil {
		refuse(err)
		return
	}
	// CORS before the revocation check, so that a browser can read why a
	// revoked token was refused.
	app, err := h.store.GetApplication(ctx, claims.ClientID)
	if err == nil {
		if o := r.Header.Get("Origin"); o != "" && slices.Contains(app.AllowedOrigins, o) {
			w.Header().Set("Access-Control-Allow-Origin", o)
		}
	} else if !errors.Is(err, domain.ErrNotFound) {
		unavailable(err)
		return
	}
	// A deleted application's tokens die with it.
	if err != nil || !app.Admits(claims.OrgID) {
		refuse(bearer.Refuse("the application of this token no longer exists"))
		return
	}
	if err := h.bearer.CheckRevoked(ctx, claims); err != nil {
		refuse(err)
		return
	}
	scopes := oauth.ParseScope(claims.Scope)
	if !scopes.Contains("openid") {
		refuse(bearer.InsufficientScope("openid", "the openid scope is required"))
		return
	}
	user, err := h.store.GetUser(ctx, claims.Subject)
	user, err = domain.SignInUser(user, err, claims.OrgID)
	switch {
	case errors.Is(err, domain.ErrUserGone):
		refuse(bearer.Refuse("the user of this token no longer exists"))
		return
	case domain.IsSignInRefusal(err):
		refuse(bearer.Refuse("the user of this token is disabled or not in its organization"))
		return
	case err != nil:
		unavailable(err)
		return
	}
	resp := userInfoResponse{Subject: user.ID, OrgID: user.OrganizationID}
	resp.Email, resp.EmailVerified, resp.Name = jwt.ScopedUserClaims(scopes, jwt.UserClaims{Email: user.Email, EmailVerified: user.EmailVerified, Name: user.Name})
	httpx.WriteJSON(w, http.StatusOK, resp)
}

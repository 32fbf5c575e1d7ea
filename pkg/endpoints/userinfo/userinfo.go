package userinfo

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/jwt"
	"orgauth/pkg/oauth"
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
	verifier  AccessTokens
	store     UserStore
	cors      *cors.Policy
	log       *slog.Logger
	now       func() time.Time
	audiences []string
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
	return &Handler{verifier: d.Verifier, store: d.Store, cors: d.CORS, log: d.Log, now: d.Now, audiences: auds}, nil
}

// Routes serves /userinfo, with CORS preflights answered by the policy.
func (h *Handler) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/userinfo", h.cors.Preflight("GET, POST", "Authorization", http.HandlerFunc(h.userinfo)))
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
	scheme, raw, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	raw = strings.TrimSpace(raw)
	if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" {
		// §3.1: no error code when the request lacks authentication.
		w.Header().Set("WWW-Authenticate", `Bearer realm="orgauth"`)
		httpx.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_request", "error_description": "a bearer access token is required"})
		return
	}
	invalid := func(desc string) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="orgauth", error="invalid_token", error_description="`+desc+`"`)
		httpx.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": desc})
	}
	unavailable := func(err error) {
		h.log.ErrorContext(ctx, "userinfo failed", "request_id", httpx.RequestID(ctx), "error", err.Error())
		w.Header().Set("Retry-After", "1")
		httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable", "error_description": "retry shortly"})
	}
	var claims jwt.AccessClaims
	verified := false
	for _, aud := range h.audiences {
		c, err := h.verifier.VerifyAccessToken(ctx, raw, aud)
		if errors.Is(err, jwt.ErrInvalidToken) {
			continue
		}
		if err != nil {
			unavailable(err)
			return
		}
		claims, verified = c, true
		break
	}
	if !verified {
		invalid("the access token is invalid or expired")
		return
	}
	if app, err := h.store.GetApplication(ctx, claims.ClientID); err == nil {
		if o := r.Header.Get("Origin"); o != "" && slices.Contains(app.AllowedOrigins, o) {
			w.Header().Set("Access-Control-Allow-Origin", o)
		}
	} else if !errors.Is(err, domain.ErrNotFound) {
		unavailable(err)
		return
	}
	revoked, err := h.store.IsJTIRevoked(ctx, claims.ID, h.now())
	if err != nil {
		unavailable(err)
		return
	}
	if revoked {
		invalid("the access token has been revoked")
		return
	}
	scopes := oauth.ParseScope(claims.Scope)
	if !scopes.Contains("openid") {
		w.Header().Set("WWW-Authenticate", `Bearer realm="orgauth", error="insufficient_scope", scope="openid"`)
		httpx.WriteJSON(w, http.StatusForbidden, map[string]string{"error": "insufficient_scope", "error_description": "the openid scope is required"})
		return
	}
	user, err := h.store.GetUser(ctx, claims.Subject)
	user, err = domain.SignInUser(user, err, claims.OrgID)
	switch {
	case errors.Is(err, domain.ErrUserGone):
		invalid("the user of this token no longer exists")
		return
	case domain.IsSignInRefusal(err):
		invalid("the user of this token is disabled or not in its organization")
		return
	case err != nil:
		unavailable(err)
		return
	}
	resp := userInfoResponse{Subject: user.ID, OrgID: user.OrganizationID}
	resp.Email, resp.EmailVerified, resp.Name = jwt.ScopedUserClaims(scopes, jwt.UserClaims{Email: user.Email, Name: user.Name})
	httpx.WriteJSON(w, http.StatusOK, resp)
}

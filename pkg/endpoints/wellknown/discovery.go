package wellknown

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"orgauth/pkg/platform/cors"
	"orgauth/pkg/platform/httpx"
	"orgauth/pkg/platform/required"
)

// Keys publishes the verification keys.
type Keys interface {
	Published(ctx context.Context) (jose.JSONWebKeySet, error)
}

// Config lists the settings discovery reads.
type Config struct {
	Issuer string
	// MaxAge is the Cache-Control max-age of every response. It bounds how
	// long a verifier may miss a newly published key.
	MaxAge time.Duration
}

// Metadata is the union of RFC 8414 §2, RFC 9207 §3, RFC 7009 (through RFC
// 8414), OpenID Connect Discovery §3 and RP-Initiated Logout §2.1.
type Metadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserInfoEndpoint                  string   `json:"userinfo_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint"`
	IntrospectionEndpointAuthMethods  []string `json:"introspection_endpoint_auth_methods_supported"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgs      []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	RevocationEndpointAuthMethods     []string `json:"revocation_endpoint_auth_methods_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	// RFC 9207: authorization responses carry iss.
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
	// OpenID Connect Discovery §3 defaults it to true; request_uri is refused.
	RequestURIParameterSupported bool `json:"request_uri_parameter_supported"`
	// Non-standard but widely used: the algs access tokens are signed with.
	AccessTokenSigningAlgValues []string `json:"access_token_signing_alg_values_supported,omitempty"`
}

// Deps is everything discovery needs; every field is required.
type Deps struct {
	Keys Keys
	// CORS lets the origins that applications allow read these documents
	// (DESIGN: the discovery and JWKS endpoints, for the applications'
	// allowed origins only).
	CORS *cors.Policy
	Log  *slog.Logger
}

// Handler serves the well-known documents.
type Handler struct {
	cfg  Config
	keys Keys
	log  *slog.Logger
	cors *cors.Policy
}

// New returns the discovery handler, or an error naming a missing
// dependency.
func New(d Deps, cfg Config) (*Handler, error) {
	if err := required.Check("wellknown endpoint", required.Dep{Name: "Keys", Value: d.Keys},
		required.Dep{Name: "CORS", Value: d.CORS}, required.Dep{Name: "Log", Value: d.Log}); err != nil {
		return nil, err
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 5 * time.Minute
	}
	return &Handler{cfg: cfg, keys: d.Keys, log: d.Log, cors: d.CORS}, nil
}

// Routes returns the handler for every path the wellknown function serves.
func (h *Handler) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", h.metadata)
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", h.metadata)
	mux.HandleFunc("GET /.well-known/jwks.json", h.jwks)
	return mux
}

func (h *Handler) metadata(w http.ResponseWriter, r *http.Request) {
	algs, err := h.algs(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	iss := strings.TrimSuffix(h.cfg.Issuer, "/") // endpoints never get "//"; issuer stays as configured
	md := Metadata{
		Issuer:                h.cfg.Issuer,
		AuthorizationEndpoint: iss + "/authorize",
		TokenEndpoint:         iss + "/oauth/token",
		UserInfoEndpoint:      iss + "/userinfo",
		RevocationEndpoint:    iss + "/oauth/revoke",
		// RFC 7662, for the organizations' M2M clients (resource servers).
		IntrospectionEndpoint:            iss + "/oauth/introspect",
		IntrospectionEndpointAuthMethods: []string{"client_secret_basic", "client_secret_post"},
		EndSessionEndpoint:               iss + "/logout",
		JWKSURI:                          iss + "/.well-known/jwks.json",
		ScopesSupported:                  []string{"openid", "profile", "email", "offline_access"},
		ClaimsSupported: []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp",
			"org_id", "email", "email_verified", "name"},
		GrantTypesSupported: []string{"authorization_code", "refresh_token", "client_credentials"},
		// web_message: the Auth0/OIDC web-message mode of silent
		// authentication in an iframe and of popups.
		ResponseModesSupported: []string{"query", "web_message"},
		// RFC 7636: plain is not offered; S256 is required of SPA clients.
		CodeChallengeMethodsSupported: []string{"S256"},
		// none: SPA (public) clients, on authorization_code and
		// refresh_token only; M2M clients always authenticate.
		TokenEndpointAuthMethodsSupported:          []string{"client_secret_basic", "client_secret_post", "none"},
		RevocationEndpointAuthMethods:              []string{"client_secret_basic", "client_secret_post", "none"},
		ResponseTypesSupported:                     []string{"code"},
		SubjectTypesSupported:                      []string{"public"},
		IDTokenSigningAlgValuesSupported:           algs,
		AccessTokenSigningAlgValues:                algs,
		AuthorizationResponseIssParameterSupported: true,
	}
	h.write(w, r, "application/json", md)
}

// algs are the algorithms of the published keys, in key-set order.
func (h *Handler) algs(ctx context.Context) ([]string, error) {
	set, err := h.keys.Published(ctx)
	if err != nil {
		return nil, err
	}
	var algs []string
	seen := map[string]bool{}
	for _, k := range set.Keys {
		if !seen[k.Algorithm] {
			seen[k.Algorithm] = true
			algs = append(algs, k.Algorithm)
		}
	}
	return algs, nil
}

func (h *Handler) jwks(w http.ResponseWriter, r *http.Request) {
	set, err := h.keys.Published(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// RFC 7517 §8.5.1 registers application/jwk-set+json.
	h.write(w, r, "application/jwk-set+json", set)
}

func (h *Handler) write(w http.ResponseWriter, r *http.Request, ctype string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(h.cfg.MaxAge/time.Second)))
	// Readable cross-origin by the origins applications allow (the request
	// names no client, so the origin index decides); Vary: Origin keeps
	// shared caches from serving one origin's answer to another.
	h.cors.AllowIndexed(w, r)
	_, _ = w.Write(b)
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.log.ErrorContext(r.Context(), "key set unavailable", "request_id", httpx.RequestID(r.Context()), "error", err.Error())
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Retry-After", "1")
	httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable", "error_description": "signing keys are unavailable; retry shortly"})
}

package discovery

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-jose/go-jose/v4"

	"orgauth/pkg/httpx"
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

// Metadata is the union of RFC 8414 §2 and OpenID Connect Discovery §3.
type Metadata struct {
	Issuer                            string   `json:"issuer"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgs      []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	// Non-standard but widely used: the algs access tokens are signed with.
	AccessTokenSigningAlgValues []string `json:"access_token_signing_alg_values_supported,omitempty"`
}

// Handler serves the well-known documents.
type Handler struct {
	cfg  Config
	keys Keys
	log  *slog.Logger
}

// New returns the discovery handler.
func New(cfg Config, keys Keys, log *slog.Logger) *Handler {
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 5 * time.Minute
	}
	return &Handler{cfg: cfg, keys: keys, log: log}
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
	md := Metadata{
		Issuer:                            h.cfg.Issuer,
		TokenEndpoint:                     h.cfg.Issuer + "/oauth/token",
		JWKSURI:                           h.cfg.Issuer + "/.well-known/jwks.json",
		GrantTypesSupported:               []string{"client_credentials"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post"},
		ResponseTypesSupported:            []string{"code"},
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  algs,
		AccessTokenSigningAlgValues:       algs,
	}
	h.write(w, "application/json", md)
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
	h.write(w, "application/jwk-set+json", set)
}

func (h *Handler) write(w http.ResponseWriter, ctype string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(h.cfg.MaxAge/time.Second)))
	_, _ = w.Write(b)
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.log.ErrorContext(r.Context(), "key set unavailable", "request_id", httpx.RequestID(r.Context()), "error", err.Error())
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Retry-After", "1")
	httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable", "error_description": "signing keys are unavailable; retry shortly"})
}

package cors

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// BrowserHeaders are the request headers browser SDKs send to the token,
// revocation and userinfo endpoints: Auth0-Client (the Auth0 SDKs'
// telemetry, sent on every call and impossible to turn off), DPoP (RFC
// 9449), Authorization and Content-Type. Allowing a header lets no new
// origin in: only the origin rules decide who may read a response.
const BrowserHeaders = "Auth0-Client, DPoP, Authorization, Content-Type"

// Index answers whether any application allows an origin.
type Index interface {
	OriginAllowed(ctx context.Context, origin string) (bool, error)
}

// Policy answers preflights and marks responses readable for allowed origins.
type Policy struct {
	index Index
	ttl   time.Duration
	now   func() time.Time
	log   *slog.Logger

	mu    sync.Mutex
	cache map[string]entry
}

type entry struct {
	allowed bool
	at      time.Time
}

// New returns a policy over index that trusts an answer for ttl (an origin
// removed from every application stops working within ttl). now may be nil.
func New(index Index, ttl time.Duration, log *slog.Logger, now func() time.Time) *Policy {
	if now == nil {
		now = time.Now
	}
	return &Policy{index: index, ttl: ttl, now: now, log: log, cache: map[string]entry{}}
}

// Allowed reports whether some application allows origin. A store error
// counts as not allowed (fail closed) and is not cached.
func (p *Policy) Allowed(ctx context.Context, origin string) bool {
	if p == nil || origin == "" || origin == "null" {
		return false
	}
	now := p.now()
	p.mu.Lock()
	e, ok := p.cache[origin]
	p.mu.Unlock()
	if ok && now.Sub(e.at) < p.ttl {
		return e.allowed
	}
	allowed, err := p.index.OriginAllowed(ctx, origin)
	if err != nil {
		p.log.WarnContext(ctx, "origin index unavailable", "error", err.Error())
		return false
	}
	p.mu.Lock()
	if len(p.cache) > 10000 {
		clear(p.cache)
	}
	p.cache[origin] = entry{allowed: allowed, at: now}
	p.mu.Unlock()
	return allowed
}

// Preflight answers CORS preflights for allowed origins (204 with the
// methods and headers given) and refuses others (204 without
// Access-Control-Allow-Origin, which the browser treats as a refusal);
// every other request goes to next.
func (p *Policy) Preflight(methods, headers string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if r.Method != http.MethodOptions || origin == "" || r.Header.Get("Access-Control-Request-Method") == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		h.Set("Cache-Control", "no-store")
		if p.Allowed(r.Context(), origin) {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Methods", methods)
			h.Set("Access-Control-Allow-Headers", headers)
			h.Set("Access-Control-Max-Age", strconv.Itoa(int(p.ttl/time.Second)))
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// AllowIndexed lets an allowed origin read the response.
func (p *Policy) AllowIndexed(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	if origin := r.Header.Get("Origin"); p.Allowed(r.Context(), origin) {
		w.Header().Set("Access-Control-Allow-Origin", origin)
	}
}

// AllowListed lets origin read the response when it is in allowed (one
// client's allowed_origins). Origins compare exactly (RFC 6454 §6.2).
func AllowListed(w http.ResponseWriter, r *http.Request, allowed []string) {
	w.Header().Add("Vary", "Origin")
	if origin := r.Header.Get("Origin"); origin != "" && slices.Contains(allowed, origin) {
		w.Header().Set("Access-Control-Allow-Origin", origin)
	}
}

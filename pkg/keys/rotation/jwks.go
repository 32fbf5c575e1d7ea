package rotation

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// HTTPJWKS fetches a JWKS over HTTP with a deadline; it implements JWKS.
type HTTPJWKS struct {
	Client  *http.Client  // http.DefaultClient if nil
	Timeout time.Duration // 10 s if zero
}

var _ JWKS = HTTPJWKS{}

// Fetch gets the JWKS at url. A url that cannot be requested at all is a
// *BadJWKSURLError.
func (h HTTPJWKS) Fetch(ctx context.Context, url string) (jose.JSONWebKeySet, error) {
	timeout, client := h.Timeout, h.Client
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	if client == nil {
		client = http.DefaultClient
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return jose.JSONWebKeySet{}, &BadJWKSURLError{err}
	}
	resp, err := client.Do(req)
	if err != nil {
		return jose.JSONWebKeySet{}, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return jose.JSONWebKeySet{}, fmt.Errorf("fetch JWKS %s: status %s", url, resp.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return jose.JSONWebKeySet{}, fmt.Errorf("fetch JWKS %s: %w", url, err)
	}
	return set, nil
}

package lambdahttp

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"orgauth/pkg/platform/httpx"
)

// Every response of a function whose issuer is https carries HSTS, errors
// included; a function of an http loopback issuer sends none.
func TestHSTSFollowsTheIssuer(t *testing.T) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	for issuer, want := range map[string]string{
		"https://auth.example.com": "max-age=63072000; includeSubDomains",
		"http://127.0.0.1:3000":    "",
	} {
		for _, path := range []string{"/ok", "/missing"} {
			resp, err := Handler(h, log, issuer, httpx.Edge{}).ProxyWithContext(context.Background(), events.APIGatewayV2HTTPRequest{
				RawPath: path, RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: path}},
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.Headers["Strict-Transport-Security"]; got != want {
				t.Errorf("issuer %s, %s (%d): Strict-Transport-Security %q, want %q", issuer, path, resp.StatusCode, got, want)
			}
		}
	}
}

package lambdahttp_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"orgauth/pkg/platform/httpx"
	"orgauth/pkg/platform/lambdahttp"
)

// Behind CloudFront, API Gateway's sourceIp is an edge server: requests
// from two clients through the same edge server reach the handler with
// their own addresses (what the per-address throttles count), and a
// request that came to the execute-api URL directly, without the origin
// secret, is refused before any handler runs.
func TestEdgeClientAddressThroughTheBridge(t *testing.T) {
	secret := "k5Qx7Vh2Lr9Wm3Tz8Np4Bc6Fd1Gs0Jy-edge"
	sum := sha256.Sum256([]byte(secret))
	edge, err := httpx.NewEdge(hex.EncodeToString(sum[:]))
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	h := lambdahttp.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, httpx.SourceIP(r))
		w.WriteHeader(http.StatusOK)
	}), slog.New(slog.NewJSONHandler(io.Discard, nil)), "https://auth.example.com", edge)
	event := func(headers map[string]string) events.APIGatewayV2HTTPRequest {
		ev := events.APIGatewayV2HTTPRequest{RawPath: "/oauth/token", Headers: headers}
		ev.RequestContext.HTTP.Method, ev.RequestContext.HTTP.Path = "POST", "/oauth/token"
		ev.RequestContext.HTTP.SourceIP = "130.176.0.10"
		return ev
	}
	for _, viewer := range []string{"198.51.100.7:50000", "203.0.113.9:50001"} {
		resp, err := h.ProxyWithContext(context.Background(), event(map[string]string{
			"x-origin-verify": secret, "cloudfront-viewer-address": viewer}))
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("through the edge: %v %+v", err, resp)
		}
	}
	if len(seen) != 2 || seen[0] != "198.51.100.7" || seen[1] != "203.0.113.9" {
		t.Fatalf("client addresses %v", seen)
	}
	resp, err := h.ProxyWithContext(context.Background(), event(map[string]string{"cloudfront-viewer-address": "198.51.100.7:1"}))
	if err != nil || resp.StatusCode != http.StatusForbidden || len(seen) != 2 {
		t.Fatalf("without the origin secret: %v %d, handler ran %d times", err, resp.StatusCode, len(seen))
	}
}

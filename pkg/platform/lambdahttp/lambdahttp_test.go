package lambdahttp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"orgauth/pkg/platform/httpx"
	"orgauth/pkg/platform/lambdahttp"
)

// The bridge turns a payload-2.0 event into the request the handler sees
// (method, path, query, headers, body, source address) and the handler's
// answer into the response API Gateway returns, with API Gateway's request
// id as the request id.
func TestBridgeCarriesTheRequestAndTheAnswer(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "token-client-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	ev.RawQueryString = "a=1&b=two"
	var seen struct {
		method, path, query, ctype, remote, body string
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen.method, seen.path, seen.query, seen.ctype, seen.remote, seen.body =
			r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), r.RemoteAddr, string(b)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte(`{"ok":true}`))
	})
	var logs bytes.Buffer
	resp, err := lambdahttp.Handler(h, slog.New(slog.NewJSONHandler(&logs, nil)), "https://auth.example.com", httpx.Edge{}).ProxyWithContext(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if seen.method != "POST" || seen.path != "/oauth/token" || seen.query != "a=1&b=two" ||
		seen.ctype != "application/x-www-form-urlencoded" || !strings.HasPrefix(seen.body, "grant_type=client_credentials") {
		t.Fatalf("handler saw %+v", seen)
	}
	if !strings.HasPrefix(seen.remote, "203.0.113.10") {
		t.Errorf("source address %q, want the event's sourceIp", seen.remote)
	}
	body := resp.Body
	if resp.IsBase64Encoded {
		b, _ := base64.StdEncoding.DecodeString(body)
		body = string(b)
	}
	if resp.StatusCode != http.StatusTeapot || body != `{"ok":true}` || resp.Headers["Cache-Control"] != "no-store" {
		t.Fatalf("response %d %q %v", resp.StatusCode, body, resp.Headers)
	}
	if resp.Headers["X-Request-Id"] != "OrgAuth00EXAMPLE=" {
		t.Errorf("request id %q, want API Gateway's", resp.Headers["X-Request-Id"])
	}
	if !strings.Contains(logs.String(), `"request_id":"OrgAuth00EXAMPLE="`) {
		t.Errorf("access line without the gateway's request id: %s", logs.String())
	}
}

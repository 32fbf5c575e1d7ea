package lambdahttp

import (
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"orgauth/pkg/platform/httpx"
)

// Handler wraps h with the shared middleware, HSTS for an https issuer, the
// edge's origin check and client address (httpx.Edge.Guard; the zero Edge
// is off), and the payload-2.0 adapter. The request id is the one API
// Gateway assigned.
func Handler(h http.Handler, log *slog.Logger, issuer string, edge httpx.Edge) *httpadapter.HandlerAdapterV2 {
	return httpadapter.NewV2(httpx.HSTS(issuer, edge.Guard(httpx.Middleware(log, gatewayRequestID, h))))
}

// Start serves h until the Lambda runtime stops the process.
func Start(h http.Handler, log *slog.Logger, issuer string, edge httpx.Edge) {
	lambda.Start(Handler(h, log, issuer, edge).ProxyWithContext)
}

func gatewayRequestID(r *http.Request) string {
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok {
		return rc.RequestID
	}
	return ""
}

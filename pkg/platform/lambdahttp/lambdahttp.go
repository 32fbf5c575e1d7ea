package lambdahttp

import (
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"orgauth/pkg/platform/httpx"
)

// Handler wraps h with the shared middleware, HSTS for an https issuer, and
// the payload-2.0 adapter. The request id is the one API Gateway assigned.
func Handler(h http.Handler, log *slog.Logger, issuer string) *httpadapter.HandlerAdapterV2 {
	return httpadapter.NewV2(httpx.HSTS(issuer, httpx.Middleware(log, gatewayRequestID, h)))
}

// Start serves h until the Lambda runtime stops the process.
func Start(h http.Handler, log *slog.Logger, issuer string) {
	lambda.Start(Handler(h, log, issuer).ProxyWithContext)
}

func gatewayRequestID(r *http.Request) string {
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok {
		return rc.RequestID
	}
	return ""
}

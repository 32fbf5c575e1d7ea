// Package lambdahttp runs a plain net/http handler as a Lambda function
// behind an API Gateway HTTP API (payload format 2.0). It must never hold
// business logic: it adapts, nothing else.
package lambdahttp

// Command wellknown is the discovery Lambda function: OpenID Connect and
// RFC 8414 metadata, and the JWKS.
package main

import (
	"orgauth/pkg/wiring"
	"orgauth/pkg/wiring/wellknownfn"
)

func main() { wiring.LambdaMain(wellknownfn.New) }

// Command wellknown is the discovery Lambda function: OpenID Connect and
// RFC 8414 metadata, and the JWKS.
package main

import "orgauth/pkg/wiring"

func main() { wiring.LambdaMain((*wiring.App).WellKnown) }

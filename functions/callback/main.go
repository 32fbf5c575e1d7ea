// Command callback is the callback Lambda function: GET /callback, where an
// organization's own OpenID provider sends its users back after they signed
// in there.
package main

import (
	"orgauth/pkg/wiring"
	"orgauth/pkg/wiring/callbackfn"
)

func main() { wiring.LambdaMain(callbackfn.New) }

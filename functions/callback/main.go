// Command callback is the callback Lambda function: GET /callback, where an
// organization's own OpenID provider sends its users back after they signed
// in there.
package main

import "orgauth/pkg/wiring"

func main() { wiring.LambdaMain((*wiring.App).Callback) }

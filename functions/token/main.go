// Command token is the token Lambda function: POST /oauth/token.
package main

import (
	"orgauth/pkg/wiring"
	"orgauth/pkg/wiring/tokenfn"
)

func main() { wiring.LambdaMain(tokenfn.New) }

// Command token is the token Lambda function: POST /oauth/token.
package main

import "orgauth/pkg/wiring"

func main() { wiring.LambdaMain((*wiring.App).Token) }

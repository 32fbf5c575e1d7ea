// Command authorize is the authorize Lambda function: GET /authorize,
// POST /login (the built-in login form) and GET /logout.
package main

import (
	"orgauth/pkg/wiring"
	"orgauth/pkg/wiring/authorizefn"
)

func main() { wiring.LambdaMain(authorizefn.New) }

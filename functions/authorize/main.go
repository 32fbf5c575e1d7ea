// Command authorize is the authorize Lambda function: GET /authorize,
// POST /login (the built-in login form) and GET /logout.
package main

import "orgauth/pkg/wiring"

func main() { wiring.LambdaMain((*wiring.App).Authorize) }

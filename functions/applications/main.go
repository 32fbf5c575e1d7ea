// Command applications is the management API Lambda function:
// /applications and /applications/{client_id}.
package main

import "orgauth/pkg/wiring"

func main() { wiring.LambdaMain((*wiring.App).Applications) }

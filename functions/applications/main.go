// Command applications is the management API Lambda function:
// /applications and /applications/{client_id}.
package main

import (
	"orgauth/pkg/wiring"
	"orgauth/pkg/wiring/applicationsfn"
)

func main() { wiring.LambdaMain(applicationsfn.New) }

// Command console is the developer console Lambda function: the embedded
// single-page application at /console and its config.json.
package main

import (
	"orgauth/pkg/wiring"
	"orgauth/pkg/wiring/consolefn"
)

func main() { wiring.LambdaMain(consolefn.New) }

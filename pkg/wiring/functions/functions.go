// Package functions lists every function's constructor by its SAM logical
// id, for the local server, which mounts them all on the routes read from
// template.yaml, and for tests. A Lambda bootstrap never imports it: each
// links only its own constructor.
package functions

import (
	"orgauth/pkg/wiring"
	"orgauth/pkg/wiring/applicationsfn"
	"orgauth/pkg/wiring/authorizefn"
	"orgauth/pkg/wiring/callbackfn"
	"orgauth/pkg/wiring/consolefn"
	"orgauth/pkg/wiring/tokenfn"
	"orgauth/pkg/wiring/wellknownfn"
)

// All maps each SAM function logical id to its constructor.
var All = map[string]wiring.Constructor{
	"TokenFunction":        tokenfn.New,
	"WellKnownFunction":    wellknownfn.New,
	"ApplicationsFunction": applicationsfn.New,
	"AuthorizeFunction":    authorizefn.New,
	"CallbackFunction":     callbackfn.New,
	"ConsoleFunction":      consolefn.New,
}

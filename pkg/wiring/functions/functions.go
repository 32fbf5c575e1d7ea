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

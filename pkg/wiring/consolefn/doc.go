// Package consolefn wires the console function: the developer console's
// embedded assets and its config.json. It needs no AWS permission.
//
// It must never build another function's endpoints, hold a rule of its
// own, or leave a dependency unset: it only connects the stage's parts to
// its endpoints' constructors, which refuse a missing one.
package consolefn

// Package applicationsfn wires the applications function: the management
// API.
//
// It must never build another function's endpoints, hold a rule of its
// own, or leave a dependency unset: it only connects the stage's parts to
// its endpoints' constructors, which refuse a missing one.
package applicationsfn

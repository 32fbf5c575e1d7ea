// Package admin holds the operators' operations on organizations, users and
// applications: what cmd/orgauthctl runs and what `make run` seeds with. It
// validates every input (bad input comes back as *InvalidError, one field
// and one reason), hashes passwords, stamps times from an injected clock and
// talks to the world through the narrow Store it declares.
//
// It must never print, log or return a password or a password hash in an
// error, and never import the AWS SDK: the caller passes in a store.
package ops

// Package soak is make soak: a bounded run of mixed traffic against make
// run's stack while its emulators are killed, restarted and frozen, then a
// check that every acknowledged write is present and consistent. Its test
// is behind the soak build tag, so that make test does not run it.
package soak

// Package jwttest provides an in-process key set for pure tests of code
// that mints or verifies tokens. Tests of the KMS adapter itself use the
// local-kms emulator instead; this must never be used outside tests.
package jwttest

// Package awsenv loads the full AWS configuration chain (environment,
// shared config and credentials files, SSO, IMDS) for the programs that run
// outside Lambda: the local server, the CLI and the tests.
//
// Lambda functions must never import it: inside Lambda the credentials are
// in the environment, and the chain's dependencies would cost the bootstrap
// several megabytes (see wiring.LambdaAWS).
package awsenv

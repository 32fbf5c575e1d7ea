// Package emulator starts the local stand-ins for AWS — dynalite or
// moto_server for DynamoDB, local-kms (through the kms-local wrapper) for KMS
// and aws-lambda-rie for Lambda — as child processes bound to 127.0.0.1 on
// free ports, and stops them again. The tests and cmd/orgauth-local use it.
//
// It must never bind anything but loopback, and every process it starts must
// be stoppable through the returned Process.
package emulator

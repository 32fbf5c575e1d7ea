// Package metrics writes CloudWatch metrics in the Embedded Metric Format:
// one JSON line on stdout per data point, which CloudWatch Logs turns into
// metrics with no API call and no agent.
//
// It must never block a request on I/O beyond one write to stdout, and never
// carry a secret or a token in a dimension.
package metrics

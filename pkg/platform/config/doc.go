// Package config reads a function's settings from its environment, once per
// cold start. It must never read AWS configuration or talk to the network.
package config

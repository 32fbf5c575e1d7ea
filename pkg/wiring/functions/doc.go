// Package functions lists every function's constructor by its SAM logical
// id, for the local server, which mounts them all on the routes read from
// template.yaml, and for tests. A Lambda bootstrap never imports it: each
// links only its own constructor.
package functions

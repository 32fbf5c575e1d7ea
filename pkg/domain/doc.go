// Package domain holds orgauth's entities — organizations, users and
// applications (OAuth clients) — the sentinel errors every store returns,
// and the rules that belong to the entities themselves: plans, client types,
// secret generation and constant-time secret checks.
//
// It must never import the AWS SDK, net/http or any adapter: it is the
// vocabulary the handlers and the stores share, nothing more.
package domain

// Package cors decides which web origins may read orgauth's responses. An
// origin is allowed when some application lists it in allowed_origins; a
// response tied to one client (a token response) checks that client's own
// list instead.
//
// A preflight (Fetch §3.2.2) carries an Origin but no client_id, so it is
// answered from the store's origin index, cached briefly per warm instance.
// It must never send Access-Control-Allow-Credentials: these endpoints use
// no cookies. It is never applied to /authorize.
package cors

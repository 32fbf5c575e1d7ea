// Package authorize is the HTTP adapter of the authorization endpoint
// GET /authorize (RFC 6749 §4.1.1, RFC 7636, OpenID Connect Core §3.1.2) and
// of the built-in login form POST /login: it reads the request into typed
// values, asks pkg/signin what to do, and writes the outcome through
// pkg/endpoints/signinhttp.
//
// It must never:
//   - decide anything of sign-in itself: which page, redirect or refusal
//     follows is pkg/signin's;
//   - pass an *http.Request inward;
//   - read a form larger than 16 KiB, or one with a repeated field;
//   - answer CORS: /authorize is a top-level navigation, never a fetch.
package authorize

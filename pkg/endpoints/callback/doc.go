// Package callback is the HTTP adapter of GET /callback, where an
// organization's own OpenID provider returns its users: it parses the
// provider's answer, passes it with the browser's cookies to
// pkg/signin's Callback, and writes the outcome through
// pkg/endpoints/signinhttp. It is the callback function's only endpoint.
//
// It must never:
//   - decrypt, see or log an upstream client secret itself: pkg/signin does
//     the exchange with the opener it is given;
//   - pass an *http.Request inward;
//   - be linked into the authorize function, nor link its endpoints.
package callback

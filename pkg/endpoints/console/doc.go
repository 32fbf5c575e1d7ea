// Package console serves the developer console: the single-page application
// built from web/console (Vite) and embedded in the binary, and its
// config.json, which tells the browser the issuer, its client_id and its
// redirect URIs at run time, so one build serves every stage.
//
// The console is an ordinary public (SPA) OAuth client of orgauth: it signs
// in through /authorize with PKCE and calls the management API with the
// user's access token. This package therefore never sees a token, a secret or
// a password, never reads the store, and never signs anything. Every answer
// carries a strict Content-Security-Policy: the console's own scripts,
// styles and API calls only.
package console

package signinhttp

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"orgauth/pkg/signin"
)

// webMessage writes the page of response_mode=web_message: a script that
// posts the authorization response to window.opener (a popup) or
// window.parent (a hidden iframe), with targetOrigin the registered
// redirect_uri's origin, never "*", so the browser drops the message
// unless that origin is the receiver. The script runs under the page's CSP
// by its hash; only the target origin may frame the page.
func (e *Edge) webMessage(w http.ResponseWriter, r *http.Request, m signin.WebMessage) {
	u, err := url.Parse(m.TargetOrigin)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil || strings.ContainsAny(u.Host, " ;,'\"") {
		e.ServerError(w, r, errors.New("web_message: bad target origin"))
		return
	}
	msg, err := json.Marshal(map[string]any{"type": "authorization_response", "response": m.Response})
	if err != nil {
		e.ServerError(w, r, err)
		return
	}
	origin, _ := json.Marshal(m.TargetOrigin)
	// json.Marshal escapes <, > and &, so nothing in the values can end the
	// script element.
	script := "(function(){var t=window.opener||(window.parent!==window?window.parent:null);" +
		"if(t){t.postMessage(" + string(msg) + "," + string(origin) + ");}})();"
	sum := sha256.Sum256([]byte(script))
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+
		"'; frame-ancestors "+m.TargetOrigin+"; base-uri 'none'; form-action 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signing in</title></head>" +
		"<body><script>" + script + "</script></body></html>\n"))
}

package domain

import "net"

// IsLoopback reports whether host (a URL's Hostname()) is localhost or a
// loopback address: the only hosts on which plain http is allowed, for
// redirect URIs (RFC 8252 §7.3), an issuer or an upstream provider run on
// the developer's machine. A name that merely starts with 127. is not one.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

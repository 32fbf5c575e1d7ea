package domain_test

import (
	"testing"

	"orgauth/pkg/domain"
)

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "127.0.0.1": true, "127.1.2.3": true, "::1": true,
		"127.evil.example": false, "127.0.0.1.nip.io": false, "example.com": false, "10.0.0.1": false, "": false,
		"localhost.example": false, "[::1]": false,
	} {
		if got := domain.IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

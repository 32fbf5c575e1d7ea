package token

import (
	"testing"
	"time"

	"orgauth/pkg/domain"
)

// The cache keeps at most max entries and evicts the least recently used.
func TestReuseCacheIsBoundedLRU(t *testing.T) {
	c := newReuseCache(2)
	now := time.Unix(1_800_000_000, 0)
	key := func(id string) reuseKey {
		return newReuseKey(domain.Application{ClientID: id}, "aud", nil, "kid", time.Hour)
	}
	put := func(id string) {
		c.put(reusable{key: key(id), raw: id, issuedAt: now, expires: now.Add(time.Hour)})
	}
	put("a")
	put("b")
	if _, ok := c.get(key("a"), now); !ok { // a is now the most recent
		t.Fatal("a missing")
	}
	put("c")
	if _, ok := c.get(key("b"), now); ok {
		t.Error("b, the least recently used, was kept")
	}
	if r, ok := c.get(key("a"), now); !ok || r.raw != "a" {
		t.Error("a was evicted")
	}
	if c.len() != 2 {
		t.Errorf("%d entries, want 2", c.len())
	}
	// Scope order does not matter; the application's version does.
	s1 := newReuseKey(domain.Application{ClientID: "x"}, "aud", []string{"b", "a"}, "kid", time.Hour)
	s2 := newReuseKey(domain.Application{ClientID: "x"}, "aud", []string{"a", "b"}, "kid", time.Hour)
	v2 := newReuseKey(domain.Application{ClientID: "x", Version: 2}, "aud", []string{"a", "b"}, "kid", time.Hour)
	if s1 != s2 || s2 == v2 {
		t.Error("reuse key: scope order matters or version does not")
	}
}

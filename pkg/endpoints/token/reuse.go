package token

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"sync"
	"time"

	"orgauth/pkg/domain"
)

// Server-side reuse of client_credentials tokens.
//
// A client that asks again, with the same audience and scope, while a token
// it was given still has at least half its lifetime left, gets that same
// token back with its true remaining expires_in. Nothing new is signed.
//
// Why this is safe: the answer is a token this client already received and
// could have kept itself; the response discloses nothing it did not have.
// Client authentication, the application's existence and the plan gate run
// on every request before the cache is consulted, so a refused client is
// refused exactly as before. The key holds everything that shapes the
// token (client, audience, normalised scope, signing kid, lifetime) and the
// state it was minted under (the secret's generation, the application's
// version): a secret rotation, a new signing key or any change to the
// application makes a different key, so an old token is never handed out
// under the new state. Entries live only in the warm function's memory,
// bounded and LRU; a token is never written to DynamoDB or a log.

// reuseKey is SHA-256 of the fields that shape a client_credentials token.
type reuseKey [32]byte

func newReuseKey(app domain.Application, audience string, scopes []string, kid string, lifetime time.Duration) reuseKey {
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(app.ClientID)
	field(audience)
	sorted := slices.Clone(scopes)
	slices.Sort(sorted)
	for _, s := range sorted {
		field("scope:" + s)
	}
	field(kid)
	field(lifetime.String())
	// The secret's generation: its stored hash (and the previous one while
	// it still works) changes with every rotation.
	field(string(app.SecretHash))
	field(string(app.PreviousSecretHash))
	field(app.PreviousSecretExpiresAt.UTC().Format(time.RFC3339Nano))
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], uint64(app.Version))
	h.Write(v[:])
	var k reuseKey
	h.Sum(k[:0])
	return k
}

// reusable is one signed token and when it was minted.
type reusable struct {
	key      reuseKey
	raw      string
	scope    string
	issuedAt time.Time
	expires  time.Time
}

// reuseCache is a bounded LRU of reusable tokens. A nil *reuseCache
// (reuse turned off) never finds anything and keeps nothing.
type reuseCache struct {
	max int
	mu  sync.Mutex
	ll  *list.List // front: most recently used
	m   map[reuseKey]*list.Element
}

func newReuseCache(max int) *reuseCache {
	return &reuseCache{max: max, ll: list.New(), m: map[reuseKey]*list.Element{}}
}

// get returns the token under k if at least half its lifetime is left at
// now; an entry past that is dropped.
func (c *reuseCache) get(k reuseKey, now time.Time) (reusable, bool) {
	if c == nil {
		return reusable{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return reusable{}, false
	}
	r := e.Value.(reusable)
	lifetime := r.expires.Sub(r.issuedAt)
	if r.expires.Sub(now)*2 < lifetime {
		c.ll.Remove(e)
		delete(c.m, k)
		return reusable{}, false
	}
	c.ll.MoveToFront(e)
	return r, true
}

// put keeps r, evicting the least recently used entry beyond max.
func (c *reuseCache) put(r reusable) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[r.key]; ok {
		e.Value = r
		c.ll.MoveToFront(e)
		return
	}
	c.m[r.key] = c.ll.PushFront(r)
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.m, old.Value.(reusable).key)
	}
}

// len is the number of entries kept.
func (c *reuseCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

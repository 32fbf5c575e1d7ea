package jwttest

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/go-jose/go-jose/v4"

	"orgauth/pkg/jwt"
)

// Counting wraps a key set and counts the signatures made through it: what
// a KMS-backed set would bill as Sign calls. Swap replaces the wrapped set,
// as a key rotation does.
type Counting struct {
	mu    sync.Mutex
	set   jwt.KeySet
	signs atomic.Int64
}

var _ jwt.KeySet = (*Counting)(nil)

// NewCounting counts the signatures of set.
func NewCounting(set jwt.KeySet) *Counting { return &Counting{set: set} }

// Signs is the number of signatures made so far.
func (c *Counting) Signs() int64 { return c.signs.Load() }

// Swap makes set the wrapped key set.
func (c *Counting) Swap(set jwt.KeySet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set = set
}

func (c *Counting) inner() jwt.KeySet {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.set
}

func (c *Counting) Active(ctx context.Context) (jwt.Key, error) {
	k, err := c.inner().Active(ctx)
	if err != nil {
		return nil, err
	}
	return countingKey{Key: k, n: &c.signs}, nil
}

func (c *Counting) Published(ctx context.Context) (jose.JSONWebKeySet, error) {
	return c.inner().Published(ctx)
}

type countingKey struct {
	jwt.Key
	n *atomic.Int64
}

func (k countingKey) SignDigest(ctx context.Context, digest []byte) ([]byte, error) {
	k.n.Add(1)
	return k.Key.SignDigest(ctx, digest)
}

package memory

import (
	"context"
	"time"

	"orgauth/pkg/storage"
)

type usageShard struct {
	n         int64
	expiresAt time.Time
}

// AddUsage adds delta to one shard of a usage counter.
func (s *Store) AddUsage(_ context.Context, name string, shard int, delta int64, expiresAt time.Time) (int64, error) {
	if err := storage.CheckUsage(name, shard, delta); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	shards := s.usage[name]
	if shards == nil {
		shards = map[int]usageShard{}
		s.usage[name] = shards
	}
	sh := shards[shard]
	sh.n += delta
	sh.expiresAt = expiresAt.Truncate(time.Second)
	if !expiresAt.Equal(sh.expiresAt) {
		sh.expiresAt = sh.expiresAt.Add(time.Second) // whole seconds, rounded up, as the TTL is
	}
	shards[shard] = sh
	return sh.n, nil
}

// UsageTotal sums a usage counter's live shards.
func (s *Store) UsageTotal(_ context.Context, name string, now time.Time) (total int64, spread int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, sh := range s.usage[name] {
		if now.Before(sh.expiresAt) {
			total += sh.n
			spread = max(spread, i+1)
		}
	}
	return total, spread, nil
}

package conformance

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"orgauth/pkg/storage"
)

// usageCases check storage.Usage: sharded counters summed on read.
var usageCases = []testCase[storage.Usage]{
	{"an unknown counter is zero", func(t *testing.T, s storage.Usage) {
		if n, spread, err := s.UsageTotal(context.Background(), "m2m/nobody/2031-03", base); err != nil || n != 0 || spread != 0 {
			t.Fatalf("UsageTotal = %d, spread %d, %v; want 0, 0, nil", n, spread, err)
		}
	}},
	{"shards add up; counters are independent", func(t *testing.T, s storage.Usage) {
		ctx := context.Background()
		end := base.Add(time.Hour).Truncate(time.Second)
		for _, a := range []struct {
			name                string
			shard, delta, after int
		}{{"c/org1", 0, 5, 5}, {"c/org1", 3, 7, 7}, {"c/org1", 3, 1, 8}, {"c/org1", storage.MaxUsageShards - 1, 100, 100}, {"c/org10", 0, 2, 2}} {
			n, err := s.AddUsage(ctx, a.name, a.shard, int64(a.delta), end)
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(a.after) {
				t.Errorf("AddUsage(%q, %d, %d) = %d; want the shard's count after it, %d", a.name, a.shard, a.delta, n, a.after)
			}
		}
		if n, spread, err := s.UsageTotal(ctx, "c/org1", base); err != nil || n != 113 || spread != storage.MaxUsageShards {
			t.Errorf("c/org1 = %d, spread %d, %v; want 113, %d", n, spread, err, storage.MaxUsageShards)
		}
		if n, spread, err := s.UsageTotal(ctx, "c/org10", base); err != nil || n != 2 || spread != 1 {
			t.Errorf("c/org10 = %d, spread %d, %v; want 2, 1 (shard 0 holds it all)", n, spread, err)
		}
	}},
	{"concurrent additions are never lost", func(t *testing.T, s storage.Usage) {
		ctx := context.Background()
		end := base.Add(time.Hour)
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		var mu sync.Mutex
		seen := map[[2]int64]bool{} // shard, count after
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := s.AddUsage(ctx, "c/busy", i%4, 3, end)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if seen[[2]int64{int64(i % 4), n}] {
					errs <- fmt.Errorf("two additions to shard %d both returned %d", i%4, n)
				}
				seen[[2]int64{int64(i % 4), n}] = true
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if n, _, err := s.UsageTotal(ctx, "c/busy", base); err != nil || n != 120 {
			t.Fatalf("after 40 concurrent additions of 3: %d, %v", n, err)
		}
	}},
	{"a shard is gone at its expiry", func(t *testing.T, s storage.Usage) {
		ctx := context.Background()
		end := base.Add(time.Hour).Truncate(time.Second)
		if _, err := s.AddUsage(ctx, "c/month", 1, 4, end); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddUsage(ctx, "c/month", 2, 6, end.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			at     time.Time
			want   int64
			spread int
		}{{end.Add(-time.Second), 10, 3}, {end, 6, 3}, {end.Add(time.Hour), 0, 0}} {
			if n, spread, err := s.UsageTotal(ctx, "c/month", c.at); err != nil || n != c.want || spread != c.spread {
				t.Errorf("at %v: %d, spread %d, %v; want %d, spread %d", c.at, n, spread, err, c.want, c.spread)
			}
		}
	}},
	{"bad arguments are refused", func(t *testing.T, s storage.Usage) {
		ctx := context.Background()
		end := base.Add(time.Hour)
		for _, a := range []struct {
			name         string
			shard, delta int
		}{{"", 0, 1}, {strings.Repeat("x", 300), 0, 1}, {"has space", 0, 1}, {"c", -1, 1}, {"c", storage.MaxUsageShards, 1}, {"c", 0, 0}, {"c", 0, -5}} {
			if _, err := s.AddUsage(ctx, a.name, a.shard, int64(a.delta), end); err == nil {
				t.Errorf("AddUsage(%q, %d, %d) accepted", a.name, a.shard, a.delta)
			}
		}
		if n, _, err := s.UsageTotal(ctx, "c", base); err != nil || n != 0 {
			t.Errorf("a refused addition counted: %d, %v", n, err)
		}
	}},
}

package throttle_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"orgauth/pkg/platform/throttle"
	"orgauth/pkg/storage/memory"
)

func TestCountCheckForget(t *testing.T) {
	ctx := context.Background()
	th := throttle.New(memory.New(), 15*time.Minute)
	now := time.Unix(0, 0).Add(15*time.Minute*1000 + time.Minute)
	l := throttle.Limit{Key: "k", Max: 3}
	for i := range 3 {
		if b, err := th.Count(ctx, now, l); b != nil || err != nil {
			t.Fatalf("attempt %d: %v %v", i+1, b, err)
		}
	}
	if b, _ := th.Check(ctx, now, l); b == nil || b.Count != 3 || b.RetryAfter != 14*time.Minute {
		t.Fatalf("Check at the limit = %+v", b)
	}
	if err := th.Forget(ctx, now, "k"); err != nil {
		t.Fatal(err)
	}
	if b, _ := th.Check(ctx, now, l); b != nil {
		t.Fatalf("Check after Forget = %+v", b)
	}
	if b, _ := th.Count(ctx, now, l, throttle.Limit{Key: "other", Max: 0}); b == nil || b.Limit.Key != "other" {
		t.Fatalf("Count reports the first limit passed: %+v", b)
	}
	if b, _ := th.Check(ctx, now.Add(14*time.Minute), l); b != nil {
		t.Fatalf("a new window starts from zero: %+v", b)
	}
}

// Of parallel attempts on one key, at most Max pass: each is counted
// before it is let through.
func TestCountConcurrent(t *testing.T) {
	th := throttle.New(memory.New(), time.Minute)
	now := time.Now()
	var mu sync.Mutex
	passed := 0
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := th.Count(context.Background(), now, throttle.Limit{Key: "acct", Max: 5})
			if err == nil && b == nil {
				mu.Lock()
				passed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if passed != 5 {
		t.Fatalf("%d of 50 parallel attempts passed a limit of 5", passed)
	}
}

func TestSlot(t *testing.T) {
	ctx := context.Background()
	th := throttle.New(memory.New(), 15*time.Minute)
	now := time.Unix(1_000_000, 0)
	if ok, _, _ := th.Slot(ctx, now, "acct", 8*time.Second); !ok {
		t.Fatal("the first attempt in a window has no slot")
	}
	ok, wait, _ := th.Slot(ctx, now.Add(time.Second), "acct", 8*time.Second)
	if ok || wait != 7*time.Second {
		t.Fatalf("second attempt in the window: %v, wait %v", ok, wait)
	}
	if ok, _, _ := th.Slot(ctx, now.Add(8*time.Second), "acct", 8*time.Second); !ok {
		t.Fatal("the next window has no slot")
	}
}

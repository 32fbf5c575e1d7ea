package dynamo_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"orgauth/pkg/domain"
	"orgauth/pkg/storage/dynamo"
)

// faultyClient fails the failAt-th write (PutItem, UpdateItem, DeleteItem)
// after it is armed, as a dropped connection or a throttled call would.
type faultyClient struct {
	dynamo.Client
	mu     sync.Mutex
	writes int
	failAt int // 0: never
}

var errInjected = errors.New("injected fault: connection reset")

func (c *faultyClient) arm(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes, c.failAt = 0, n
}

func (c *faultyClient) fail() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	return c.failAt != 0 && c.writes == c.failAt
}

func (c *faultyClient) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if c.fail() {
		return nil, errInjected
	}
	return c.Client.PutItem(ctx, in, o...)
}

func (c *faultyClient) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if c.fail() {
		return nil, errInjected
	}
	return c.Client.UpdateItem(ctx, in, o...)
}

func (c *faultyClient) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	if c.fail() {
		return nil, errInjected
	}
	return c.Client.DeleteItem(ctx, in, o...)
}

// TestOriginIndexFaults fails each write of an application's create,
// update and delete in turn, and checks after each that the origin index
// grants exactly what the stored applications list (no stale grant), and
// that once the retention of in-flight entries has passed no entry is left
// that no application lists (no orphan). It runs on both emulators: the
// design needs no transaction, which dynalite lacks.
func TestOriginIndexFaults(t *testing.T) {
	onEmulators(t, func(t *testing.T, raw *dynamodb.Client) {
		const (
			a = "https://a.example.com"
			b = "https://b.example.com"
			c = "https://c.example.com"
		)
		origins := []string{a, b, c}
		now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
		app := func(origins ...string) domain.Application {
			return domain.Application{ClientID: "app", OrganizationID: "org", Name: "app", Type: domain.ClientSPA,
				AllowedOrigins: origins, CreatedBy: "u", CreatedAt: now, UpdatedAt: now}
		}
		type env struct {
			fc    *faultyClient
			s     *dynamo.Store
			table string
			clock *time.Time
		}
		newEnv := func(t *testing.T) env {
			table := newTable(t, raw)
			fc := &faultyClient{Client: raw}
			clock := now
			return env{fc: fc, table: table, clock: &clock, s: dynamo.New(fc, table, dynamo.WithClock(func() time.Time { return clock }))}
		}
		// check: OriginAllowed is what the application lists; after the
		// retention, asking prunes every entry no application lists.
		check := func(t *testing.T, e env, step string) {
			t.Helper()
			ctx := context.Background()
			e.fc.arm(0)
			listed := map[string]bool{}
			if cur, err := e.s.GetApplication(ctx, "app"); err == nil {
				for _, o := range cur.AllowedOrigins {
					listed[o] = true
				}
			} else if !errors.Is(err, domain.ErrNotFound) {
				t.Fatal(err)
			}
			for _, o := range origins {
				got, err := e.s.OriginAllowed(ctx, o)
				if err != nil || got != listed[o] {
					t.Fatalf("%s: OriginAllowed(%s) = %v, %v; the application lists it: %v", step, o, got, err, listed[o])
				}
			}
			*e.clock = e.clock.Add(10 * time.Minute)
			for _, o := range origins {
				if got, err := e.s.OriginAllowed(ctx, o); err != nil || got != listed[o] {
					t.Fatalf("%s, later: OriginAllowed(%s) = %v, %v", step, o, got, err)
				}
			}
			out, err := raw.Scan(ctx, &dynamodb.ScanInput{TableName: &e.table, ConsistentRead: aws.Bool(true)})
			if err != nil {
				t.Fatal(err)
			}
			for _, item := range out.Items {
				pk := item["pk"].(*types.AttributeValueMemberS).Value
				if o, ok := strings.CutPrefix(pk, "ORIGIN#"); ok && !listed[o] {
					t.Fatalf("%s: orphan index entry for %s", step, o)
				}
			}
		}
		ctx := context.Background()

		// Create [a b]: writes are entry a, entry b, the application.
		for n := 1; n <= 3; n++ {
			e := newEnv(t)
			e.fc.arm(n)
			if err := e.s.CreateApplication(ctx, app(a, b)); err == nil {
				t.Fatalf("create with write %d failing succeeded", n)
			}
			check(t, e, "create failing at write "+string(rune('0'+n)))
		}
		// Update [a b] -> [b c]: entry c, the application, unindex a.
		for n := 1; n <= 3; n++ {
			e := newEnv(t)
			if err := e.s.CreateApplication(ctx, app(a, b)); err != nil {
				t.Fatal(err)
			}
			e.fc.arm(n)
			got, err := e.s.UpdateApplication(ctx, "app", func(cur domain.Application) (domain.Application, error) {
				cur.AllowedOrigins = []string{b, c}
				return cur, nil
			})
			if committed := slices.Contains(got.AllowedOrigins, c); n == 3 && (err != nil || !committed) {
				// The change is committed: its answer must say so.
				t.Fatalf("update committed but answered %v", err)
			}
			check(t, e, "update failing at write "+string(rune('0'+n)))
		}
		// Delete: the application, then unindex a.
		for n := 1; n <= 2; n++ {
			e := newEnv(t)
			if err := e.s.CreateApplication(ctx, app(a)); err != nil {
				t.Fatal(err)
			}
			e.fc.arm(n)
			err := e.s.DeleteApplication(ctx, "app")
			if n == 2 && err != nil {
				t.Fatalf("delete committed but answered %v", err)
			}
			check(t, e, "delete failing at write "+string(rune('0'+n)))
		}
	})
}

// markingClient marks the application throttled, through the store, just
// before the first PutItem it passes on: as a failing client would between
// an update's read and its write.
type markingClient struct {
	dynamo.Client
	once  sync.Once
	store func() *dynamo.Store
	until time.Time
	err   error
}

func (c *markingClient) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.once.Do(func() { c.err = c.store().ThrottleApplication(ctx, "app-raced", c.until) })
	return c.Client.PutItem(ctx, in, o...)
}

// An application update racing the throttle's mark keeps the mark: the
// mark is written without a new version, so the update's write is
// conditional on the mark it read too, and its retry reads the new one.
func TestUpdateKeepsARacingThrottleMark(t *testing.T) {
	onEmulators(t, func(t *testing.T, raw *dynamodb.Client) {
		ctx := context.Background()
		if err := dynamo.CreateTable(ctx, raw, "raced"); err != nil {
			t.Fatal(err)
		}
		plain := dynamo.New(raw, "raced")
		now := time.Now().UTC().Truncate(time.Second)
		app := domain.Application{ClientID: "app-raced", OrganizationID: "org-1", Name: "raced", Type: domain.ClientM2M,
			CreatedBy: "u1", CreatedAt: now, UpdatedAt: now}
		if err := plain.CreateApplication(ctx, app); err != nil {
			t.Fatal(err)
		}
		until := now.Add(15 * time.Minute)
		mc := &markingClient{Client: raw, store: func() *dynamo.Store { return plain }, until: until}
		racing := dynamo.New(mc, "raced")
		if _, err := racing.UpdateApplication(ctx, "app-raced", func(a domain.Application) (domain.Application, error) {
			a.Name = "renamed"
			return a, nil
		}); err != nil {
			t.Fatal(err)
		}
		if mc.err != nil {
			t.Fatal(mc.err)
		}
		got, err := plain.GetApplication(ctx, "app-raced")
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "renamed" || !got.ThrottledUntil.Equal(until) {
			t.Fatalf("after the race: %q, throttled until %v (want %v)", got.Name, got.ThrottledUntil, until)
		}
	})
}

package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"orgauth/pkg/domain"
	"orgauth/pkg/storage"
)

// Client is the part of *dynamodb.Client the store uses. Tests and
// benchmarks may wrap it.
type Client interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var _ storage.Store = (*Store)(nil)

var _ Client = (*dynamodb.Client)(nil)

// Store keeps organizations, users and applications in one DynamoDB table.
// It is safe for concurrent use.
type Store struct {
	client   Client
	table    string
	attempts int
	now      func() time.Time // when origin index entries are written (origins.go)
}

// Option configures a Store.
type Option func(*Store)

// WithCASAttempts sets how many read-modify-write rounds an Update makes
// before it gives up with domain.ErrConflict (default 5, at least 1).
func WithCASAttempts(n int) Option {
	return func(s *Store) { s.attempts = max(n, 1) }
}

// WithClock sets the clock that dates origin index entries and decides
// when a stale one may be pruned (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// New returns a store on table through client. It does no I/O.
func New(client Client, table string, opts ...Option) *Store {
	s := &Store{client: client, table: table, attempts: 5, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// ---------------------------------------------------------------- organizations

func (s *Store) CreateOrganization(ctx context.Context, o domain.Organization) error {
	if o.ID == "" {
		return errors.New("dynamo: organization id is empty")
	}
	o.Version = 1
	if err := s.putNew(ctx, orgItem(o)); err != nil {
		return fmt.Errorf("dynamo: create organization %q: %w", o.ID, err)
	}
	return nil
}

func (s *Store) GetOrganization(ctx context.Context, id string) (domain.Organization, error) {
	return get(ctx, s, "organization", id, orgKey, orgFromItem)
}

func (s *Store) UpdateOrganization(ctx context.Context, id string, fn func(domain.Organization) (domain.Organization, error)) (domain.Organization, error) {
	return update(ctx, s, "organization", id, orgKey, orgFromItem, orgItem, fn, checkOrgKeys,
		func(o *domain.Organization) *int64 { return &o.Version })
}

// ListOrganizations returns every organization, ordered by id.
func (s *Store) ListOrganizations(ctx context.Context) ([]domain.Organization, error) {
	return queryAll(ctx, s, orgsPK, orgFromItem)
}

func checkOrgKeys(old, new domain.Organization) error {
	switch {
	case new.ID != old.ID:
		return keyChanged("organization", "ID")
	case !new.CreatedAt.Equal(old.CreatedAt):
		return keyChanged("organization", "CreatedAt")
	}
	return nil
}

// ---------------------------------------------------------------- applications

func (s *Store) CreateApplication(ctx context.Context, a domain.Application) error {
	if a.ClientID == "" || a.OrganizationID == "" {
		return errors.New("dynamo: application client id or organization id is empty")
	}
	a.Version = 1
	if err := s.addOrigins(ctx, a.ClientID, a.AllowedOrigins); err != nil {
		s.unindexFailedCreate(ctx, a.ClientID, a.AllowedOrigins)
		return err
	}
	if err := s.putNew(ctx, appItem(a)); err != nil {
		if !errors.Is(err, domain.ErrAlreadyExists) { // a taken id's entries are the other application's
			s.unindexFailedCreate(ctx, a.ClientID, a.AllowedOrigins)
		}
		return fmt.Errorf("dynamo: create application %q: %w", a.ClientID, err)
	}
	return nil
}

func (s *Store) GetApplication(ctx context.Context, clientID string) (domain.Application, error) {
	return get(ctx, s, "application", clientID, appKey, appFromItem)
}

func (s *Store) UpdateApplication(ctx context.Context, clientID string, fn func(domain.Application) (domain.Application, error)) (domain.Application, error) {
	indexed, old := s.indexedUpdate(ctx, storage.KeepThrottled(fn))
	a, err := update(ctx, s, "application", clientID, appKey, appFromItem, appItem, indexed, checkAppKeys,
		func(a *domain.Application) *int64 { return &a.Version }, attrThrottledUntil) // kept as read: storage.KeepThrottled
	if err != nil {
		return a, err
	}
	// Committed: a failure to unindex what it removed leaves an entry that
	// grants nothing (origins.go), so it is not this change's failure.
	s.removeOrigins(ctx, clientID, minus(old.AllowedOrigins, a.AllowedOrigins))
	return a, nil
}

// DeleteApplication deletes an application, or fails with ErrNotFound.
func (s *Store) DeleteApplication(ctx context.Context, clientID string) error {
	if !domain.ValidID(clientID) {
		return fmt.Errorf("dynamo: delete application: malformed id: %w", domain.ErrNotFound)
	}
	out, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:           &s.table,
		Key:                 key(appKey(clientID)),
		ConditionExpression: aws.String("attribute_exists(pk)"),
		ReturnValues:        types.ReturnValueAllOld,
	})
	if isConditionFailed(err) {
		err = domain.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("dynamo: delete application %q: %w", clientID, err)
	}
	old, err := appFromItem(out.Attributes)
	if err != nil {
		return fmt.Errorf("dynamo: deleted application %q: %w", clientID, err)
	}
	s.removeOrigins(ctx, clientID, old.AllowedOrigins) // committed: see UpdateApplication
	return nil
}

// ListApplications pages through an organization's applications in creation
// order (gsi1sk). The cursor is store.EncodeCursor of the last item
// returned; it becomes the exclusive lower bound of gsi1sk, so it stays
// valid even if that item is deleted meanwhile.
func (s *Store) ListApplications(ctx context.Context, orgID string, limit int, cursor string) ([]domain.Application, string, error) {
	limit = pageSize(limit)
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		IndexName:              aws.String(indexGSI1),
		KeyConditionExpression: aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: orgAppsPK(orgID)},
		},
	}
	if cursor != "" {
		at, id, err := storage.DecodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		in.KeyConditionExpression = aws.String("gsi1pk = :pk AND gsi1sk > :after")
		in.ExpressionAttributeValues[":after"] = &types.AttributeValueMemberS{Value: storage.CreationKey(at, id)}
	}
	// Ask for one more than a page: if it comes, there is a next page. This
	// way next is "" exactly on the last page, where DynamoDB alone would
	// hand out a LastEvaluatedKey to an empty page.
	var apps []domain.Application
	for {
		in.Limit = aws.Int32(int32(limit + 1 - len(apps)))
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("dynamo: list applications: %w", err)
		}
		for _, item := range out.Items {
			a, err := appFromItem(item)
			if err != nil {
				return nil, "", err
			}
			apps = append(apps, a)
		}
		if len(apps) > limit || out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey // a 1 MB page ended early
	}
	if len(apps) <= limit {
		return apps, "", nil
	}
	last := apps[limit-1]
	return apps[:limit], storage.EncodeCursor(last.CreatedAt, last.ClientID), nil
}

// pageSize applies ListApplications' default and maximum page size.
func pageSize(limit int) int {
	if limit <= 0 {
		return 50
	}
	return min(limit, 100)
}

func checkAppKeys(old, new domain.Application) error {
	switch {
	case new.ClientID != old.ClientID:
		return keyChanged("application", "ClientID")
	case new.OrganizationID != old.OrganizationID:
		return keyChanged("application", "OrganizationID")
	case new.Type != old.Type:
		return keyChanged("application", "Type")
	case new.CreatedBy != old.CreatedBy:
		return keyChanged("application", "CreatedBy")
	case !new.CreatedAt.Equal(old.CreatedAt):
		return keyChanged("application", "CreatedAt")
	}
	return nil
}

// ---------------------------------------------------------------- users

// CreateUser claims the user's email, then puts the user; see doc.go.
func (s *Store) CreateUser(ctx context.Context, u domain.User) error {
	if u.ID == "" || u.OrganizationID == "" || u.Email == "" {
		return errors.New("dynamo: user id, organization id or email is empty")
	}
	u.Email = domain.LowerASCII(u.Email)
	u.Version = 1
	if err := s.putNew(ctx, emailClaimItem(u.Email, u.ID)); err != nil {
		return fmt.Errorf("dynamo: create user %q: claim email: %w", u.ID, err)
	}
	err := s.putNew(ctx, userItem(u))
	if err == nil {
		return nil
	}
	// Release the claim, but only if it is still ours. Do it even if ctx
	// is done: a stale claim would block the email for good.
	_, relErr := s.client.DeleteItem(context.WithoutCancel(ctx), &dynamodb.DeleteItemInput{
		TableName:                 &s.table,
		Key:                       key(emailKey(u.Email)),
		ConditionExpression:       aws.String("user_id = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: u.ID}},
	})
	if relErr != nil && !isConditionFailed(relErr) {
		return fmt.Errorf("dynamo: create user %q: %w (and releasing the email claim failed: %v)", u.ID, err, relErr)
	}
	return fmt.Errorf("dynamo: create user %q: %w", u.ID, err)
}

func (s *Store) GetUser(ctx context.Context, id string) (domain.User, error) {
	return get(ctx, s, "user", id, userKey, userFromItem)
}

// GetUserByEmail follows the email claim to its user. A claim whose user
// does not exist, or no longer has that email, counts as a miss.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (domain.User, error) {
	email = domain.LowerASCII(email)
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(emailKey(email)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return domain.User{}, fmt.Errorf("dynamo: get user by email: %w", err)
	}
	d := decoder{item: out.Item}
	id := d.str(attrUserID)
	if out.Item == nil || id == "" || d.err != nil {
		return domain.User{}, fmt.Errorf("dynamo: get user by email: %w", domain.ErrNotFound)
	}
	u, err := s.GetUser(ctx, id)
	if err != nil {
		return domain.User{}, err
	}
	if u.Email != email {
		return domain.User{}, fmt.Errorf("dynamo: get user by email: %w", domain.ErrNotFound)
	}
	return u, nil
}

func (s *Store) UpdateUser(ctx context.Context, id string, fn func(domain.User) (domain.User, error)) (domain.User, error) {
	return update(ctx, s, "user", id, userKey, userFromItem, userItem, fn, checkUserKeys,
		func(u *domain.User) *int64 { return &u.Version })
}

// ListUsers returns an organization's users, ordered by email.
func (s *Store) ListUsers(ctx context.Context, orgID string) ([]domain.User, error) {
	return queryAll(ctx, s, orgUsersPK(orgID), userFromItem)
}

// checkUserKeys also freezes the email: moving the email claim would take
// more than one conditional write.
func checkUserKeys(old, new domain.User) error {
	switch {
	case new.ID != old.ID:
		return keyChanged("user", "ID")
	case new.OrganizationID != old.OrganizationID:
		return keyChanged("user", "OrganizationID")
	case !strings.EqualFold(new.Email, old.Email):
		return keyChanged("user", "Email")
	case !new.CreatedAt.Equal(old.CreatedAt):
		return keyChanged("user", "CreatedAt")
	}
	return nil
}

// ---------------------------------------------------------------- shared

type itemMap = map[string]types.AttributeValue

// putNew writes an item that must not exist yet.
func (s *Store) putNew(ctx context.Context, item itemMap) error {
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           &s.table,
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if isConditionFailed(err) {
		return domain.ErrAlreadyExists
	}
	return err
}

// deleteExisting deletes an item that must exist; ErrNotFound otherwise.
func (s *Store) deleteExisting(ctx context.Context, what string, k itemMap) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:           &s.table,
		Key:                 k,
		ConditionExpression: aws.String("attribute_exists(pk)"),
	})
	if isConditionFailed(err) {
		err = domain.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("dynamo: delete %s: %w", what, err)
	}
	return nil
}

// get reads one entity with a strongly consistent GetItem.
func get[T any](ctx context.Context, s *Store, kind, id string,
	keyOf func(string) (string, string),
	decode func(itemMap) (T, error),
) (T, error) {
	var zero T
	if !domain.ValidID(id) {
		// Not an id this server could have made: nothing to read, and too
		// long a key would be an error of DynamoDB's.
		return zero, fmt.Errorf("dynamo: get %s: malformed id: %w", kind, domain.ErrNotFound)
	}
	return read(ctx, s, kind, id, keyOf, decode)
}

// read is get for a key already checked, or one that is not an id (an
// API's audience).
func read[T any](ctx context.Context, s *Store, kind, id string,
	keyOf func(string) (string, string),
	decode func(itemMap) (T, error),
) (T, error) {
	var zero T
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(keyOf(id)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return zero, fmt.Errorf("dynamo: get %s %q: %w", kind, id, err)
	}
	if out.Item == nil {
		return zero, fmt.Errorf("dynamo: get %s %q: %w", kind, id, domain.ErrNotFound)
	}
	v, err := decode(out.Item)
	if err != nil {
		return zero, fmt.Errorf("dynamo: get %s %q: %w", kind, id, err)
	}
	return v, nil
}

// update is the compare-and-swap loop of every Update*: read, apply fn,
// check the key fields, and put with version+1 on condition that the stored
// version is still the one read. Losing that race re-reads and re-applies fn
// after a short jittered pause. version points at the entity's Version.
// unversioned names the attributes that are written without a new version
// (an application's throttled_until, ThrottleApplication): the put is also
// conditional on each still holding the value read, which the item carries.
func update[T any](ctx context.Context, s *Store, kind, id string,
	keyOf func(string) (string, string),
	decode func(itemMap) (T, error),
	encode func(T) itemMap,
	fn func(T) (T, error),
	checkKeys func(old, new T) error,
	version func(*T) *int64,
	unversioned ...string,
) (T, error) {
	if !domain.ValidID(id) {
		var zero T
		return zero, fmt.Errorf("dynamo: update %s: malformed id: %w", kind, domain.ErrNotFound)
	}
	return casUpdate(ctx, s, kind, id, keyOf, decode, encode, fn, checkKeys, version, unversioned...)
}

// casUpdate is update for a key already checked, or one that is not an id
// (an API's audience).
func casUpdate[T any](ctx context.Context, s *Store, kind, id string,
	keyOf func(string) (string, string),
	decode func(itemMap) (T, error),
	encode func(T) itemMap,
	fn func(T) (T, error),
	checkKeys func(old, new T) error,
	version func(*T) *int64,
	unversioned ...string,
) (T, error) {
	var zero T
	for attempt := range s.attempts {
		if attempt > 0 {
			if err := pause(ctx, attempt); err != nil {
				return zero, err
			}
		}
		old, err := read(ctx, s, kind, id, keyOf, decode)
		if err != nil {
			return zero, err
		}
		v := *version(&old)
		next, err := fn(old)
		if err != nil {
			return zero, err
		}
		if err := checkKeys(old, next); err != nil {
			return zero, err
		}
		*version(&next) = v + 1
		item := encode(next)
		cond, names, vals := unchangedSince(v, item, unversioned)
		_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                 &s.table,
			Item:                      item,
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: vals,
		})
		if isConditionFailed(err) {
			continue // changed or deleted meanwhile: the next read tells which
		}
		if err != nil {
			return zero, fmt.Errorf("dynamo: update %s %q: %w", kind, id, err)
		}
		// Return what was written, in the shape a read gives.
		return decode(item)
	}
	return zero, fmt.Errorf("dynamo: update %s %q: lost %d races: %w", kind, id, s.attempts, domain.ErrConflict)
}

// unchangedSince is the condition of update's put of item: the stored
// version is still v, and each unversioned attribute still has the value
// item carries (absent if item has none). A write that read another value
// of an unversioned attribute would put it back.
func unchangedSince(v int64, item itemMap, unversioned []string) (string, map[string]string, map[string]types.AttributeValue) {
	cond := "version = :v"
	vals := map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: fmt.Sprint(v)}}
	var names map[string]string
	for i, attr := range unversioned {
		n, val := fmt.Sprintf("#u%d", i), fmt.Sprintf(":u%d", i)
		if names == nil {
			names = map[string]string{}
		}
		names[n] = attr
		if x, ok := item[attr]; ok {
			cond += " AND " + n + " = " + val
			vals[val] = x
		} else {
			cond += " AND attribute_not_exists(" + n + ")"
		}
	}
	return cond, names, vals
}

// pause sleeps a random 0–10·attempt ms, so racing writers spread out.
func pause(ctx context.Context, attempt int) error {
	t := time.NewTimer(rand.N(time.Duration(attempt) * 10 * time.Millisecond))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// queryAll reads a whole gsi1 partition, in gsi1sk order.
func queryAll[T any](ctx context.Context, s *Store, gsi1pk string, decode func(itemMap) (T, error)) ([]T, error) {
	return queryPages(ctx, s, &dynamodb.QueryInput{
		TableName:              &s.table,
		IndexName:              aws.String(indexGSI1),
		KeyConditionExpression: aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: gsi1pk},
		},
	}, gsi1pk, decode)
}

// queryPages runs in to its last page and decodes every item; what names
// the query in an error.
func queryPages[T any](ctx context.Context, s *Store, in *dynamodb.QueryInput, what string, decode func(itemMap) (T, error)) ([]T, error) {
	var out []T
	for {
		page, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("dynamo: query %s: %w", what, err)
		}
		for _, item := range page.Items {
			v, err := decode(item)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		if page.LastEvaluatedKey == nil {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

func keyChanged(kind, field string) error {
	return fmt.Errorf("dynamo: update must not change the %s's %s", kind, field)
}

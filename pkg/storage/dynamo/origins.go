package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"orgauth/pkg/domain"
)

// The origin index answers "does any application allow this web origin?",
// which a CORS preflight needs: it carries an Origin but no client_id.
//
//	pk = ORIGIN#<origin>   sk = APP#<client_id>   at = <when written>
//
// An entry is a hint, never a grant: OriginAllowed follows each entry of
// the origin's partition to its application and answers yes only if the
// application, read consistently, lists the origin. So the index needs no
// transaction (dynalite, which make run uses, has no TransactWriteItems),
// and no failure between the writes of a change can make it grant more
// than the applications allow: a stale entry (a create that failed after
// indexing, a removal whose unindexing failed) answers no from the moment
// the application's write commits or fails. What the CORS layer caches
// (pkg/platform/cors) can outlive that by its TTL, no longer.
//
// Writes keep the index complete: origins an application gains are indexed
// before the application is written, origins it loses are unindexed after.
// Stale entries are removed: by a failed create at once (hintRetention
// does not apply to its own entries), and otherwise by the OriginAllowed
// that finds one older than hintRetention, which is longer than any write
// in flight can take, so the entry of a change still being written is
// never pruned.
const hintRetention = 5 * time.Minute

// maxOriginHints bounds how many entries of one origin OriginAllowed
// follows: one origin is listed by few applications.
const maxOriginHints = 25

func originKey(origin, clientID string) map[string]types.AttributeValue {
	return key("ORIGIN#"+origin, "APP#"+clientID)
}

func (s *Store) addOrigins(ctx context.Context, clientID string, origins []string) error {
	for _, o := range origins {
		item := originKey(o, clientID)
		item["entity"] = &types.AttributeValueMemberS{Value: "origin"}
		item["client_id"] = &types.AttributeValueMemberS{Value: clientID}
		item["at"] = &types.AttributeValueMemberS{Value: s.now().UTC().Format(timeLayout)}
		if _, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
			return fmt.Errorf("dynamo: index origin %q: %w", o, err)
		}
	}
	return nil
}

// removeOrigins unindexes origins that clientID's committed write no
// longer lists. A failure is not the change's failure (the change is
// committed, and the entry it leaves grants nothing): the entry is left to
// pruning.
func (s *Store) removeOrigins(ctx context.Context, clientID string, origins []string) {
	for _, o := range origins {
		if _, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: originKey(o, clientID)}); err != nil {
			return
		}
	}
}

// unindexFailedCreate removes the entries a failed CreateApplication wrote,
// unless the application exists after all (its write may have committed
// although its answer was lost) and lists them. It uses its own deadline:
// the request's context may be what ended the create.
func (s *Store) unindexFailedCreate(ctx context.Context, clientID string, origins []string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	for _, o := range origins {
		_, _ = s.pruneHint(ctx, o, clientID, "")
	}
}

// pruneHint follows one entry of origin's index to its application: it
// reports whether the application lists origin, and deletes the entry when
// it does not, if the entry still carries at (written at; "" for any).
func (s *Store) pruneHint(ctx context.Context, origin, clientID, at string) (bool, error) {
	if ok, err := s.listsOrigin(ctx, clientID, origin); err != nil || ok {
		return ok, err
	}
	in := &dynamodb.DeleteItemInput{TableName: &s.table, Key: originKey(origin, clientID)}
	if at != "" {
		in.ConditionExpression = aws.String("#at = :at")
		in.ExpressionAttributeNames = map[string]string{"#at": "at"}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":at": &types.AttributeValueMemberS{Value: at}}
	}
	if _, err := s.client.DeleteItem(ctx, in); err != nil && !isConditionFailed(err) {
		return false, fmt.Errorf("dynamo: prune origin %q of %q: %w", origin, clientID, err)
	}
	return false, nil
}

// listsOrigin reports whether clientID's application, read consistently,
// lists origin; a missing application lists nothing.
func (s *Store) listsOrigin(ctx context.Context, clientID, origin string) (bool, error) {
	a, err := s.GetApplication(ctx, clientID)
	if errors.Is(err, domain.ErrNotFound) {
		return false, nil
	}
	return err == nil && slices.Contains(a.AllowedOrigins, origin), err
}

// OriginAllowed reports whether some application lists origin among its
// allowed origins: one Query on the origin's partition, then one
// consistent read of each application it names until one lists origin.
// Entries whose application does not list origin answer no, and are
// pruned once older than hintRetention.
func (s *Store) OriginAllowed(ctx context.Context, origin string) (bool, error) {
	out, err := s.client.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: "ORIGIN#" + origin},
		},
		Limit: aws.Int32(maxOriginHints),
	})
	if err != nil {
		return false, fmt.Errorf("dynamo: origin %q: %w", origin, err)
	}
	for _, item := range out.Items {
		d := decoder{item: item}
		clientID, at := d.str("client_id"), d.str("at")
		if clientID == "" { // an entry of an earlier version: the id is in the sort key
			if sk, ok := item["sk"].(*types.AttributeValueMemberS); ok && len(sk.Value) > len("APP#") {
				clientID = sk.Value[len("APP#"):]
			}
		}
		if clientID == "" {
			continue
		}
		var ok bool
		if written, terr := time.Parse(timeLayout, at); terr == nil && s.now().Sub(written) < hintRetention {
			// Possibly a change still being written: follow, never prune.
			ok, err = s.listsOrigin(ctx, clientID, origin)
		} else {
			ok, err = s.pruneHint(ctx, origin, clientID, at)
		}
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// minus is the origins of a that are not in b.
func minus(a, b []string) []string {
	var out []string
	for _, o := range a {
		if !slices.Contains(b, o) {
			out = append(out, o)
		}
	}
	return out
}

// indexedUpdate wraps an application update so that the origin index
// follows it: gained origins are indexed inside the compare-and-swap, before
// the write (idempotent if the swap is retried).
func (s *Store) indexedUpdate(ctx context.Context, fn func(domain.Application) (domain.Application, error)) (func(domain.Application) (domain.Application, error), *domain.Application) {
	var old domain.Application
	return func(cur domain.Application) (domain.Application, error) {
		next, err := fn(cur)
		if err != nil {
			return next, err
		}
		old = cur
		return next, s.addOrigins(ctx, cur.ClientID, minus(next.AllowedOrigins, cur.AllowedOrigins))
	}, &old
}

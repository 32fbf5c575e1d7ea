package dynamo

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"orgauth/pkg/domain"
)

// The origin index answers "does any application allow this web origin?",
// which a CORS preflight needs: it carries an Origin but no client_id.
//
//	pk = ORIGIN#<origin>   sk = APP#<client_id>
//
// It is derived from the applications and kept by this store alone, with
// single-item writes: origins an application gains are written before the
// application, origins it loses are removed after it. A failure in between
// can leave a stale entry (a preflight answered for an origin nobody lists,
// which grants nothing: the actual response is still checked against the
// client), never a missing one.

func originKey(origin, clientID string) map[string]types.AttributeValue {
	return key("ORIGIN#"+origin, "APP#"+clientID)
}

func (s *Store) addOrigins(ctx context.Context, clientID string, origins []string) error {
	for _, o := range origins {
		item := originKey(o, clientID)
		item["entity"] = &types.AttributeValueMemberS{Value: "origin"}
		if _, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
			return fmt.Errorf("dynamo: index origin %q: %w", o, err)
		}
	}
	return nil
}

func (s *Store) removeOrigins(ctx context.Context, clientID string, origins []string) error {
	for _, o := range origins {
		if _, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: originKey(o, clientID)}); err != nil {
			return fmt.Errorf("dynamo: unindex origin %q: %w", o, err)
		}
	}
	return nil
}

// OriginAllowed reports whether some application lists origin among its
// allowed origins: one Query on the origin's partition, one item at most.
func (s *Store) OriginAllowed(ctx context.Context, origin string) (bool, error) {
	out, err := s.client.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: "ORIGIN#" + origin},
		},
		Limit: aws.Int32(1),
	})
	if err != nil {
		return false, fmt.Errorf("dynamo: origin %q: %w", origin, err)
	}
	return len(out.Items) > 0, nil
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

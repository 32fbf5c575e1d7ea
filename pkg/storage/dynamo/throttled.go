package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"orgauth/pkg/domain"
)

// ThrottleApplication raises the application's throttled_until to until
// with one conditional UpdateItem: the item must exist (nothing is created
// for an unknown client), and an instant already later stays.
func (s *Store) ThrottleApplication(ctx context.Context, clientID string, until time.Time) error {
	if !domain.ValidID(clientID) {
		return nil
	}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      key(appKey(clientID)),
		UpdateExpression:         aws.String("SET #t = :t"),
		ConditionExpression:      aws.String("attribute_exists(pk) AND (attribute_not_exists(#t) OR #t < :t)"),
		ExpressionAttributeNames: map[string]string{"#t": attrThrottledUntil},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t": epoch(until),
		},
	})
	if isConditionFailed(err) {
		return nil // no such client, or throttled until later already
	}
	if err != nil {
		return fmt.Errorf("dynamo: throttle application %q: %w", clientID, err)
	}
	return nil
}

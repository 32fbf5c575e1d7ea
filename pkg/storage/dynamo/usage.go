package dynamo

// Usage counters: one item per shard, under the counter's partition, so an
// addition is one UpdateItem ADD on one of the shards and a total is one
// Query of at most storage.MaxUsageShards small items.
//
//	entity  pk              sk           expires_at
//	usage   USAGE#<name>    SHARD#<nn>   the counter's end (TTL)

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"orgauth/pkg/storage"
)

func usagePK(name string) string { return "USAGE#" + name }

// AddUsage adds delta to one shard of a usage counter: ADD is atomic, so
// concurrent additions are never lost.
func (s *Store) AddUsage(ctx context.Context, name string, shard int, delta int64, expiresAt time.Time) (int64, error) {
	if err := storage.CheckUsage(name, shard, delta); err != nil {
		return 0, err
	}
	return s.addCount(ctx, "add usage", key(usagePK(name), fmt.Sprintf("SHARD#%02d", shard)), delta, ttl(expiresAt), "usage")
}

// UsageTotal sums the live shards of a usage counter, and finds its spread.
func (s *Store) UsageTotal(ctx context.Context, name string, now time.Time) (total int64, spread int, err error) {
	if err := storage.CheckUsage(name, 0, 1); err != nil {
		return 0, 0, err
	}
	out, err := s.client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: usagePK(name)}},
		ConsistentRead:            aws.Bool(true),
		Limit:                     aws.Int32(storage.MaxUsageShards),
	})
	if err != nil {
		return 0, 0, fmt.Errorf("dynamo: usage total: %w", err)
	}
	for _, item := range out.Items {
		d := decoder{item: item}
		n, end, sk := d.int(attrCount), d.int(attrExpiresAt), d.str(attrSK)
		var shard int
		if _, err := fmt.Sscanf(sk, "SHARD#%d", &shard); err != nil && d.err == nil {
			d.err = fmt.Errorf("usage shard key %q", sk)
		}
		if d.err != nil {
			return 0, 0, fmt.Errorf("dynamo: usage total: %w", d.err)
		}
		if now.Unix() < end {
			total += n
			spread = max(spread, shard+1)
		}
	}
	return total, spread, nil
}

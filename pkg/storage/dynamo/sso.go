package dynamo

// Organization SSO's item: the link from an upstream identity to its
// orgauth user. (A sign-in sent upstream is stored nowhere: its state is
// sealed, pkg/signin/ssostate.go.)
//
//	entity    pk                                   sk         expires_at
//	upstream  UPSTREAM#<base64url(sha256(iss sub))> UPSTREAM   -

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"orgauth/pkg/domain"
)

// upstreamKey hashes issuer and subject: together they may be longer than
// a key may be, and a NUL separates them so no two pairs share a key.
func upstreamKey(issuer, subject string) (pk, sk string) {
	sum := sha256.Sum256([]byte(issuer + "\x00" + subject))
	return "UPSTREAM#" + base64.RawURLEncoding.EncodeToString(sum[:]), "UPSTREAM"
}

// LinkUpstream records that an upstream identity is an orgauth user, once:
// a second link of the same identity fails with domain.ErrAlreadyExists.
func (s *Store) LinkUpstream(ctx context.Context, l domain.UpstreamLink) error {
	if l.Issuer == "" || l.Subject == "" || l.UserID == "" {
		return fmt.Errorf("dynamo: upstream link without issuer, subject or user")
	}
	e := encoder{}
	pk, sk := upstreamKey(l.Issuer, l.Subject)
	e.keys(pk, sk, "", "", "upstream")
	e.str("issuer", l.Issuer)
	e.str("subject", l.Subject)
	e.str("user_id", l.UserID)
	e.str("org_id", l.OrganizationID)
	e.time("created_at", l.CreatedAt)
	if err := s.putNew(ctx, e); err != nil {
		return fmt.Errorf("dynamo: link upstream identity: %w", err)
	}
	return nil
}

// GetUpstreamLink reads the link of an upstream identity.
func (s *Store) GetUpstreamLink(ctx context.Context, issuer, subject string) (domain.UpstreamLink, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(upstreamKey(issuer, subject)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return domain.UpstreamLink{}, fmt.Errorf("dynamo: get upstream link: %w", err)
	}
	if out.Item == nil {
		return domain.UpstreamLink{}, fmt.Errorf("dynamo: get upstream link: %w", domain.ErrNotFound)
	}
	d := decoder{item: out.Item}
	l := domain.UpstreamLink{
		Issuer: d.str("issuer"), Subject: d.str("subject"), UserID: d.str("user_id"),
		OrganizationID: d.str("org_id"), CreatedAt: d.time("created_at"),
	}
	return l, d.err
}

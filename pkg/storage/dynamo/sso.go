package dynamo

// Organization SSO's items: the transaction of a sign-in sent upstream, and
// the link from an upstream identity to its orgauth user.
//
//	entity    pk                                   sk         expires_at
//	ssotx     SSOTX#<state>                        SSOTX      end of the transaction
//	upstream  UPSTREAM#<base64url(sha256(iss sub))> UPSTREAM   -

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"orgauth/pkg/domain"
)

func ssoTxKey(state string) (pk, sk string) { return "SSOTX#" + state, "SSOTX" }

// upstreamKey hashes issuer and subject: together they may be longer than
// a key may be, and a NUL separates them so no two pairs share a key.
func upstreamKey(issuer, subject string) (pk, sk string) {
	sum := sha256.Sum256([]byte(issuer + "\x00" + subject))
	return "UPSTREAM#" + base64.RawURLEncoding.EncodeToString(sum[:]), "UPSTREAM"
}

func ssoTxItem(tx domain.SSOTransaction) itemMap {
	e := encoder{}
	pk, sk := ssoTxKey(tx.State)
	e.keys(pk, sk, "", "", "ssotx")
	e.str("state", tx.State)
	e.str("login_tx", tx.LoginTransactionID)
	e.str("org_id", tx.OrganizationID)
	e.str("client_id", tx.ClientID)
	e.str("nonce", tx.Nonce)
	e.bytes("binding_hash", tx.BindingHash)
	e.str("issuer", tx.Issuer)
	e.str("redirect_uri", tx.RedirectURI)
	e.time("created_at", tx.CreatedAt)
	e.time(attrExpires, tx.ExpiresAt)
	e[attrExpiresAt] = ttl(tx.ExpiresAt)
	return e
}

func ssoTxFromItem(item itemMap) (domain.SSOTransaction, error) {
	d := decoder{item: item}
	tx := domain.SSOTransaction{
		State:              d.str("state"),
		LoginTransactionID: d.str("login_tx"),
		OrganizationID:     d.str("org_id"),
		ClientID:           d.str("client_id"),
		Nonce:              d.str("nonce"),
		BindingHash:        d.bytes("binding_hash"),
		Issuer:             d.str("issuer"),
		RedirectURI:        d.str("redirect_uri"),
		CreatedAt:          d.time("created_at"),
		ExpiresAt:          d.time(attrExpires),
	}
	return tx, d.err
}

// CreateSSOTransaction stores a new SSO transaction.
func (s *Store) CreateSSOTransaction(ctx context.Context, tx domain.SSOTransaction) error {
	if tx.State == "" || tx.ExpiresAt.IsZero() {
		return fmt.Errorf("dynamo: SSO transaction without state or expiry")
	}
	if err := s.putNew(ctx, ssoTxItem(tx)); err != nil {
		return fmt.Errorf("dynamo: create SSO transaction: %w", err)
	}
	return nil
}

// GetSSOTransaction reads the transaction of state without consuming it.
func (s *Store) GetSSOTransaction(ctx context.Context, state string, now time.Time) (domain.SSOTransaction, error) {
	tx, err := get(ctx, s, "SSO transaction", state, ssoTxKey, ssoTxFromItem)
	if err != nil {
		return tx, err
	}
	if !now.Before(tx.ExpiresAt) {
		return domain.SSOTransaction{}, fmt.Errorf("dynamo: SSO transaction expired: %w", domain.ErrNotFound)
	}
	return tx, nil
}

// ConsumeSSOTransaction deletes the transaction and returns what it held,
// in one conditional DeleteItem: of concurrent callbacks with one state, one
// gets it.
func (s *Store) ConsumeSSOTransaction(ctx context.Context, state string, now time.Time) (domain.SSOTransaction, error) {
	return consume(ctx, s, "SSO transaction", state, now, ssoTxKey, ssoTxFromItem,
		func(tx domain.SSOTransaction) time.Time { return tx.ExpiresAt })
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

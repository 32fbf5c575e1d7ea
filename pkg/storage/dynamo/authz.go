package dynamo

// Registered APIs, consents, and what a user or an application holds (see
// doc.go for the layout):
//
//	entity      pk                sk                   gsi1pk                    gsi1sk
//	api         API#<audience>    API                  APIS                      <audience>
//	consent     USER#<user_id>    CONSENT#<client_id>  -                         -
//	userfamily  USER#<user_id>    FAMILY#<family_id>   -                         -
//
// The family item itself (codes.go) is on gsi1 under CLIENT#<client_id>#FAMILIES,
// and the session item (session.go) under USER#<user_id>#SESSIONS.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"orgauth/pkg/domain"
	"orgauth/pkg/storage"
)

func apiKey(audience string) (string, string) { return "API#" + audience, "API" }

const apisPK = "APIS"

func consentKey(userID, clientID string) (string, string) {
	return "USER#" + userID, "CONSENT#" + clientID
}

func userFamilyKey(userID, familyID string) (string, string) {
	return "USER#" + userID, "FAMILY#" + familyID
}

func clientFamiliesPK(clientID string) string { return "CLIENT#" + clientID + "#FAMILIES" }
func userSessionsPK(userID string) string     { return "USER#" + userID + "#SESSIONS" }

// ---------------------------------------------------------------- apis

// apiItem stores the scopes as a list of maps {name, description, roles},
// in order.
func apiItem(api domain.API) itemMap {
	e := encoder{}
	pk, sk := apiKey(api.Audience)
	e.keys(pk, sk, apisPK, api.Audience, "api")
	e.str("audience", api.Audience)
	e.str("name", api.Name)
	if len(api.Scopes) > 0 {
		l := make([]types.AttributeValue, len(api.Scopes))
		for i, sc := range api.Scopes {
			m := encoder{}
			m.str("name", sc.Name)
			m.str("description", sc.Description)
			roles := make([]string, len(sc.Roles))
			for j, r := range sc.Roles {
				roles[j] = string(r)
			}
			m.list("roles", roles)
			l[i] = &types.AttributeValueMemberM{Value: m}
		}
		e["scopes"] = &types.AttributeValueMemberL{Value: l}
	}
	e.time("created_at", api.CreatedAt)
	e.time("updated_at", api.UpdatedAt)
	e.int(attrVersion, api.Version)
	return e
}

func apiFromItem(item itemMap) (domain.API, error) {
	d := decoder{item: item}
	api := domain.API{
		Audience:  d.str("audience"),
		Name:      d.str("name"),
		CreatedAt: d.time("created_at"),
		UpdatedAt: d.time("updated_at"),
		Version:   d.int(attrVersion),
	}
	switch v := item["scopes"].(type) {
	case nil:
	case *types.AttributeValueMemberL:
		for _, e := range v.Value {
			m, ok := e.(*types.AttributeValueMemberM)
			if !ok {
				d.fail("scopes", v)
				break
			}
			sd := decoder{item: m.Value}
			sc := domain.APIScope{Name: sd.str("name"), Description: sd.str("description")}
			for _, r := range sd.list("roles") {
				sc.Roles = append(sc.Roles, domain.Role(r))
			}
			if sd.err != nil && d.err == nil {
				d.err = sd.err
			}
			api.Scopes = append(api.Scopes, sc)
		}
	default:
		d.fail("scopes", v)
	}
	return api, d.err
}

// CreateAPI registers an API, once per audience.
func (s *Store) CreateAPI(ctx context.Context, api domain.API) error {
	if err := api.Validate(); err != nil {
		return fmt.Errorf("dynamo: create api: %w", err)
	}
	api.Version = 1
	if err := s.putNew(ctx, apiItem(api)); err != nil {
		return fmt.Errorf("dynamo: create api %q: %w", api.Audience, err)
	}
	return nil
}

// GetAPI reads a registered API (strongly consistent).
func (s *Store) GetAPI(ctx context.Context, audience string) (domain.API, error) {
	if domain.ValidateAudience(audience) != nil {
		return domain.API{}, fmt.Errorf("dynamo: get api: malformed audience: %w", domain.ErrNotFound)
	}
	return read(ctx, s, "api", audience, apiKey, apiFromItem)
}

// UpdateAPI is compare-and-swap on version, as the other Update* are. The
// audience is the key; it is checked with domain.ValidateAudience rather
// than domain.ValidID, since an audience may be longer than an id.
func (s *Store) UpdateAPI(ctx context.Context, audience string, fn func(domain.API) (domain.API, error)) (domain.API, error) {
	if domain.ValidateAudience(audience) != nil {
		return domain.API{}, fmt.Errorf("dynamo: update api: malformed audience: %w", domain.ErrNotFound)
	}
	return casUpdate(ctx, s, "api", audience, apiKey, apiFromItem, apiItem, fn, checkAPI,
		func(a *domain.API) *int64 { return &a.Version })
}

// checkAPI keeps an API's key fields, and validates the rest.
func checkAPI(old, new domain.API) error {
	switch {
	case new.Audience != old.Audience:
		return keyChanged("api", "Audience")
	case !new.CreatedAt.Equal(old.CreatedAt):
		return keyChanged("api", "CreatedAt")
	}
	if err := new.Validate(); err != nil {
		return fmt.Errorf("dynamo: update api: %w", err)
	}
	return nil
}

// DeleteAPI removes a registered API.
func (s *Store) DeleteAPI(ctx context.Context, audience string) error {
	if domain.ValidateAudience(audience) != nil {
		return fmt.Errorf("dynamo: delete api: malformed audience: %w", domain.ErrNotFound)
	}
	return s.deleteExisting(ctx, "api "+audience, key(apiKey(audience)))
}

// ListAPIs lists every registered API by audience (gsi1, so it may lag a
// write on AWS).
func (s *Store) ListAPIs(ctx context.Context) ([]domain.API, error) {
	return queryAll(ctx, s, apisPK, apiFromItem)
}

// ---------------------------------------------------------------- consents

// PutConsent merges by compare-and-swap on the consent's version: read,
// merge, then put on condition that the item is still absent or at the
// version read. (An UpdateItem ADD on a string set would be one write, but
// moto applies concurrent ADDs non-atomically, and the suite runs there.)

func consentItem(c domain.Consent, version int64) itemMap {
	e := encoder{}
	pk, sk := consentKey(c.UserID, c.ClientID)
	e.keys(pk, sk, "", "", "consent")
	e.str(attrUserID, c.UserID)
	e.str("client_id", c.ClientID)
	e.str("org_id", c.OrganizationID)
	e.list("scopes", c.Scopes)
	e.time("granted_at", c.GrantedAt)
	e.time("updated_at", c.UpdatedAt)
	e.int(attrVersion, version)
	return e
}

func consentFromItem(item itemMap) (domain.Consent, error) {
	d := decoder{item: item}
	c := domain.Consent{
		UserID:         d.str(attrUserID),
		ClientID:       d.str("client_id"),
		OrganizationID: d.str("org_id"),
		Scopes:         d.list("scopes"),
		GrantedAt:      d.time("granted_at"),
		UpdatedAt:      d.time("updated_at"),
	}
	return c, d.err
}

// PutConsent adds scopes to a user's consent for an application, creating
// it if needed.
func (s *Store) PutConsent(ctx context.Context, c domain.Consent) (domain.Consent, error) {
	scopes := domain.MergeScopes(c.Scopes)
	if !domain.ValidID(c.UserID) || !domain.ValidID(c.ClientID) || c.OrganizationID == "" || len(scopes) == 0 || c.GrantedAt.IsZero() {
		return domain.Consent{}, errors.New("dynamo: consent without user, client, organization, scopes or time")
	}
	pk, sk := consentKey(c.UserID, c.ClientID)
	for attempt := range s.attempts {
		if attempt > 0 {
			if err := pause(ctx, attempt); err != nil {
				return domain.Consent{}, err
			}
		}
		out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return domain.Consent{}, fmt.Errorf("dynamo: put consent: %w", err)
		}
		next := domain.Consent{UserID: c.UserID, ClientID: c.ClientID, OrganizationID: c.OrganizationID,
			Scopes: scopes, GrantedAt: c.GrantedAt, UpdatedAt: c.GrantedAt}
		in := &dynamodb.PutItemInput{TableName: &s.table, ConditionExpression: aws.String("attribute_not_exists(pk)")}
		var v int64
		if out.Item != nil {
			old, err := consentFromItem(out.Item)
			d := decoder{item: out.Item}
			v = d.int(attrVersion)
			if err != nil || d.err != nil {
				return domain.Consent{}, fmt.Errorf("dynamo: put consent: %w", errors.Join(err, d.err))
			}
			next.GrantedAt = old.GrantedAt
			next.Scopes = domain.MergeScopes(old.Scopes, scopes)
			in.ConditionExpression = aws.String("version = :v")
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: fmt.Sprint(v)}}
		}
		in.Item = consentItem(next, v+1)
		_, err = s.client.PutItem(ctx, in)
		if isConditionFailed(err) {
			continue
		}
		if err != nil {
			return domain.Consent{}, fmt.Errorf("dynamo: put consent: %w", err)
		}
		return consentFromItem(in.Item)
	}
	return domain.Consent{}, fmt.Errorf("dynamo: put consent: lost %d races: %w", s.attempts, domain.ErrConflict)
}

func (s *Store) GetConsent(ctx context.Context, userID, clientID string) (domain.Consent, error) {
	if !domain.ValidID(userID) || !domain.ValidID(clientID) {
		return domain.Consent{}, fmt.Errorf("dynamo: get consent: malformed id: %w", domain.ErrNotFound)
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(consentKey(userID, clientID)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return domain.Consent{}, fmt.Errorf("dynamo: get consent: %w", err)
	}
	if out.Item == nil {
		return domain.Consent{}, fmt.Errorf("dynamo: get consent: %w", domain.ErrNotFound)
	}
	return consentFromItem(out.Item)
}

// ListConsents reads the consent items of the user's partition, in client
// id order (strongly consistent: a table query, not gsi1).
func (s *Store) ListConsents(ctx context.Context, userID string) ([]domain.Consent, error) {
	if !domain.ValidID(userID) {
		return nil, nil
	}
	return queryPartition(ctx, s, "USER#"+userID, "CONSENT#", consentFromItem)
}

func (s *Store) DeleteConsent(ctx context.Context, userID, clientID string) error {
	if !domain.ValidID(userID) || !domain.ValidID(clientID) {
		return fmt.Errorf("dynamo: delete consent: malformed id: %w", domain.ErrNotFound)
	}
	return s.deleteExisting(ctx, "consent", key(consentKey(userID, clientID)))
}

// queryPartition reads the items of table partition pk whose sort key
// begins with prefix, in sort key order, strongly consistent.
func queryPartition[T any](ctx context.Context, s *Store, pk, prefix string, decode func(itemMap) (T, error)) ([]T, error) {
	return queryPages(ctx, s, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: pk},
			":prefix": &types.AttributeValueMemberS{Value: prefix},
		},
		ConsistentRead: aws.Bool(true),
	}, pk+" "+prefix, decode)
}

// ---------------------------------------------------------------- holdings

// userFamilyItem is the entry of a family in its user's partition. It is
// written before the family (CreateRefreshFamily), so every family of a
// user has one; an entry whose family was never written reads as a miss.
// It expires with the family.
func userFamilyItem(f domain.RefreshFamily) itemMap {
	e := encoder{}
	pk, sk := userFamilyKey(f.UserID, f.ID)
	e.keys(pk, sk, "", "", "userfamily")
	e.str("family_id", f.ID)
	e.str("client_id", f.ClientID)
	e.ttl(f.ExpiresAt)
	return e
}

// ListClientRefreshFamilies queries gsi1 (CLIENT#<id>#FAMILIES), so it may
// lag a write on AWS.
func (s *Store) ListClientRefreshFamilies(ctx context.Context, clientID string, now time.Time) ([]domain.RefreshFamily, error) {
	if !domain.ValidID(clientID) {
		return nil, nil
	}
	all, err := queryAll(ctx, s, clientFamiliesPK(clientID), familyFromItem)
	if err != nil {
		return nil, err
	}
	return liveFamilies(all, now), nil
}

// ListUserRefreshFamilies follows the user's family entries to their
// families (one consistent read each).
func (s *Store) ListUserRefreshFamilies(ctx context.Context, userID string, now time.Time) ([]domain.RefreshFamily, error) {
	if !domain.ValidID(userID) {
		return nil, nil
	}
	ids, err := queryPartition(ctx, s, "USER#"+userID, "FAMILY#", func(item itemMap) (string, error) {
		d := decoder{item: item}
		return d.str("family_id"), d.err
	})
	if err != nil {
		return nil, err
	}
	var all []domain.RefreshFamily
	for _, id := range ids {
		f, err := s.GetRefreshFamily(ctx, id, now)
		if errors.Is(err, domain.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if f.UserID == userID {
			all = append(all, f)
		}
	}
	return liveFamilies(all, now), nil
}

func liveFamilies(all []domain.RefreshFamily, now time.Time) []domain.RefreshFamily {
	out := slices.DeleteFunc(all, func(f domain.RefreshFamily) bool { return f.Revoked || !now.Before(f.ExpiresAt) })
	slices.SortFunc(out, func(a, b domain.RefreshFamily) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	if len(out) == 0 {
		return nil
	}
	return out
}

// ListUserSessions queries gsi1 (USER#<id>#SESSIONS), so it may lag a
// write on AWS.
func (s *Store) ListUserSessions(ctx context.Context, userID string, now time.Time) ([]domain.Session, error) {
	if !domain.ValidID(userID) {
		return nil, nil
	}
	all, err := queryAll(ctx, s, userSessionsPK(userID), sessionFromItem)
	if err != nil {
		return nil, err
	}
	out := slices.DeleteFunc(all, func(ss domain.Session) bool { return !now.Before(ss.ExpiresAt) })
	slices.SortFunc(out, func(a, b domain.Session) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

var _ storage.APIs = (*Store)(nil)

// TransferApplication sets created_by with one conditional UpdateItem.
func (s *Store) TransferApplication(ctx context.Context, clientID, from, to string, at time.Time) (domain.Application, error) {
	if to == "" {
		return domain.Application{}, errors.New("dynamo: transfer to nobody")
	}
	if !domain.ValidID(clientID) {
		return domain.Application{}, fmt.Errorf("dynamo: transfer application: malformed id: %w", domain.ErrNotFound)
	}
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 key(appKey(clientID)),
		UpdateExpression:    aws.String("SET created_by = :to, updated_at = :at ADD version :one"),
		ConditionExpression: aws.String("attribute_exists(pk) AND created_by = :from"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":to":   &types.AttributeValueMemberS{Value: to},
			":from": &types.AttributeValueMemberS{Value: from},
			":at":   &types.AttributeValueMemberS{Value: at.UTC().Format(timeLayout)},
			":one":  &types.AttributeValueMemberN{Value: "1"},
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		if _, gerr := s.GetApplication(ctx, clientID); gerr != nil {
			return domain.Application{}, gerr
		}
		return domain.Application{}, fmt.Errorf("dynamo: application %q is not %q's: %w", clientID, from, domain.ErrConflict)
	}
	if err != nil {
		return domain.Application{}, fmt.Errorf("dynamo: transfer application %q: %w", clientID, err)
	}
	return appFromItem(out.Attributes)
}

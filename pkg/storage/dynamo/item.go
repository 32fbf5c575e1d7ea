package dynamo

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"orgauth/pkg/domain"
	"orgauth/pkg/storage"
)

// Attribute names. Keys and the email claim are described in doc.go.
const (
	attrPK      = "pk"
	attrSK      = "sk"
	attrGSI1PK  = "gsi1pk"
	attrGSI1SK  = "gsi1sk"
	attrEntity  = "entity"
	attrVersion = "version"
	attrUserID  = "user_id"
	indexGSI1   = "gsi1"
)

// timeLayout is storage.CreationKey's layout: fixed-width UTC, nanoseconds.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func orgKey(id string) (pk, sk string)       { return "ORG#" + id, "ORG" }
func appKey(clientID string) (pk, sk string) { return "APP#" + clientID, "APP" }
func userKey(id string) (pk, sk string)      { return "USER#" + id, "USER" }
func emailKey(email string) (pk, sk string)  { return "EMAIL#" + domain.LowerASCII(email), "EMAIL" }
func orgAppsPK(orgID string) string          { return "ORG#" + orgID + "#APPS" }
func orgUsersPK(orgID string) string         { return "ORG#" + orgID + "#USERS" }

const orgsPK = "ORGS"

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: &types.AttributeValueMemberS{Value: pk}, attrSK: &types.AttributeValueMemberS{Value: sk}}
}

// ---------------------------------------------------------------- encoding

// encoder builds an item, leaving out empty values so that absent and zero
// read back the same.
type encoder map[string]types.AttributeValue

func (e encoder) str(name, v string) {
	if v != "" {
		e[name] = &types.AttributeValueMemberS{Value: v}
	}
}

func (e encoder) int(name string, v int64) {
	e[name] = &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func (e encoder) time(name string, v time.Time) {
	if !v.IsZero() {
		e[name] = &types.AttributeValueMemberS{Value: v.UTC().Format(timeLayout)}
	}
}

func (e encoder) bytes(name string, v []byte) {
	if len(v) > 0 {
		e[name] = &types.AttributeValueMemberB{Value: append([]byte(nil), v...)}
	}
}

func (e encoder) list(name string, v []string) {
	if len(v) == 0 {
		return
	}
	l := make([]types.AttributeValue, len(v))
	for i, s := range v {
		l[i] = &types.AttributeValueMemberS{Value: s}
	}
	e[name] = &types.AttributeValueMemberL{Value: l}
}

func (e encoder) bool(name string, v bool) {
	if v {
		e[name] = &types.AttributeValueMemberBOOL{Value: true}
	}
}

func (e encoder) keys(pk, sk, gsi1pk, gsi1sk, entity string) {
	e.str(attrPK, pk)
	e.str(attrSK, sk)
	e.str(attrGSI1PK, gsi1pk)
	e.str(attrGSI1SK, gsi1sk)
	e.str(attrEntity, entity)
}

// ---------------------------------------------------------------- decoding

// decoder reads attributes of one item; the first malformed one sets err
// and later reads return zero values.
type decoder struct {
	item map[string]types.AttributeValue
	err  error
}

func (d *decoder) fail(name string, v types.AttributeValue) {
	if d.err == nil {
		d.err = fmt.Errorf("dynamo: attribute %q has unexpected value %T", name, v)
	}
}

func (d *decoder) str(name string) string {
	switch v := d.item[name].(type) {
	case nil:
	case *types.AttributeValueMemberS:
		return v.Value
	default:
		d.fail(name, v)
	}
	return ""
}

func (d *decoder) int(name string) int64 {
	switch v := d.item[name].(type) {
	case nil:
	case *types.AttributeValueMemberN:
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			d.fail(name, v)
		}
		return n
	default:
		d.fail(name, v)
	}
	return 0
}

func (d *decoder) time(name string) time.Time {
	s := d.str(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		d.fail(name, d.item[name])
	}
	return t
}

func (d *decoder) bytes(name string) []byte {
	switch v := d.item[name].(type) {
	case nil:
	case *types.AttributeValueMemberB:
		if len(v.Value) > 0 {
			return v.Value
		}
	default:
		d.fail(name, v)
	}
	return nil
}

func (d *decoder) list(name string) []string {
	switch v := d.item[name].(type) {
	case nil:
	case *types.AttributeValueMemberL:
		if len(v.Value) == 0 {
			return nil
		}
		out := make([]string, len(v.Value))
		for i, e := range v.Value {
			s, ok := e.(*types.AttributeValueMemberS)
			if !ok {
				d.fail(name, v)
				return nil
			}
			out[i] = s.Value
		}
		return out
	default:
		d.fail(name, v)
	}
	return nil
}

func (d *decoder) bool(name string) bool {
	switch v := d.item[name].(type) {
	case nil:
	case *types.AttributeValueMemberBOOL:
		return v.Value
	default:
		d.fail(name, v)
	}
	return false
}

// ---------------------------------------------------------------- entities

func orgItem(o domain.Organization) map[string]types.AttributeValue {
	e := encoder{}
	pk, sk := orgKey(o.ID)
	e.keys(pk, sk, orgsPK, pk, "org")
	e.str("id", o.ID)
	e.str("name", o.Name)
	e.str("plan", string(o.Plan))
	if o.TokenQuota != 0 {
		e.int("token_quota", o.TokenQuota)
	}
	if sso := o.SSO; sso != nil {
		e.str("sso_issuer", sso.Issuer)
		e.str("sso_client_id", sso.ClientID)
		e.bytes("sso_client_secret", sso.ClientSecretCiphertext)
		e.list("sso_scopes", sso.Scopes)
		e.list("sso_domains", sso.Domains)
		e.bool("sso_enforced", sso.Enforced)
		e.bool("sso_provision", sso.Provision)
		e.str("sso_provision_role", string(sso.ProvisionRole))
		e.list("sso_applications", sso.Applications)
	}
	if len(o.DomainClaims) > 0 {
		b, _ := json.Marshal(o.DomainClaims) // strings and times: cannot fail
		e.str("domain_claims", string(b))
	}
	e.time("created_at", o.CreatedAt)
	e.time("updated_at", o.UpdatedAt)
	e.int(attrVersion, o.Version)
	return e
}

func orgFromItem(item map[string]types.AttributeValue) (domain.Organization, error) {
	d := decoder{item: item}
	o := domain.Organization{
		ID:         d.str("id"),
		Name:       d.str("name"),
		Plan:       domain.Plan(d.str("plan")),
		TokenQuota: d.int("token_quota"),
		CreatedAt:  d.time("created_at"),
		UpdatedAt:  d.time("updated_at"),
		Version:    d.int(attrVersion),
	}
	if iss := d.str("sso_issuer"); iss != "" {
		o.SSO = &domain.SSO{
			Issuer:                 iss,
			ClientID:               d.str("sso_client_id"),
			ClientSecretCiphertext: d.bytes("sso_client_secret"),
			Scopes:                 d.list("sso_scopes"),
			Domains:                d.list("sso_domains"),
			Enforced:               d.bool("sso_enforced"),
			Provision:              d.bool("sso_provision"),
			ProvisionRole:          domain.Role(d.str("sso_provision_role")),
			Applications:           d.list("sso_applications"),
		}
	}
	if s := d.str("domain_claims"); s != "" {
		if err := json.Unmarshal([]byte(s), &o.DomainClaims); err != nil && d.err == nil {
			d.err = fmt.Errorf("dynamo: organization %s: domain_claims: %w", o.ID, err)
		}
	}
	return o, d.err
}

const (
	attrLifetime       = "access_token_lifetime"
	attrThrottledUntil = "throttled_until" // epoch seconds
)

// epochTime is t seconds after the epoch, or the zero time for 0.
func epochTime(t int64) time.Time {
	if t == 0 {
		return time.Time{}
	}
	return time.Unix(t, 0).UTC()
}

func appItem(a domain.Application) map[string]types.AttributeValue {
	e := encoder{}
	pk, sk := appKey(a.ClientID)
	e.keys(pk, sk, orgAppsPK(a.OrganizationID), storage.CreationKey(a.CreatedAt, a.ClientID), "app")
	e.str("client_id", a.ClientID)
	e.str("org_id", a.OrganizationID)
	e.str("name", a.Name)
	e.str("description", a.Description)
	e.str("client_type", string(a.Type))
	e.list("callback_urls", a.CallbackURLs)
	e.list("allowed_origins", a.AllowedOrigins)
	e.list("logout_urls", a.LogoutURLs)
	e.list("scopes", a.Scopes)
	if s := int64(a.AccessTokenLifetime / time.Second); s != 0 {
		e.int(attrLifetime, s)
	}
	if a.TokenReuseOff {
		e.bool("token_reuse_off", true)
	}
	e.bytes("secret_hash", a.SecretHash)
	e.bytes("previous_secret_hash", a.PreviousSecretHash)
	e.time("previous_secret_expires_at", a.PreviousSecretExpiresAt)
	if !a.ThrottledUntil.IsZero() {
		e.int(attrThrottledUntil, a.ThrottledUntil.Unix())
	}
	e.str("created_by", a.CreatedBy)
	e.time("created_at", a.CreatedAt)
	e.time("updated_at", a.UpdatedAt)
	e.int(attrVersion, a.Version)
	return e
}

func appFromItem(item map[string]types.AttributeValue) (domain.Application, error) {
	d := decoder{item: item}
	a := domain.Application{
		ClientID:                d.str("client_id"),
		OrganizationID:          d.str("org_id"),
		Name:                    d.str("name"),
		Description:             d.str("description"),
		Type:                    domain.ClientType(d.str("client_type")),
		CallbackURLs:            d.list("callback_urls"),
		AllowedOrigins:          d.list("allowed_origins"),
		LogoutURLs:              d.list("logout_urls"),
		Scopes:                  d.list("scopes"),
		AccessTokenLifetime:     time.Duration(d.int(attrLifetime)) * time.Second,
		TokenReuseOff:           d.bool("token_reuse_off"),
		SecretHash:              d.bytes("secret_hash"),
		PreviousSecretHash:      d.bytes("previous_secret_hash"),
		PreviousSecretExpiresAt: d.time("previous_secret_expires_at"),
		ThrottledUntil:          epochTime(d.int(attrThrottledUntil)),
		CreatedBy:               d.str("created_by"),
		CreatedAt:               d.time("created_at"),
		UpdatedAt:               d.time("updated_at"),
		Version:                 d.int(attrVersion),
	}
	return a, d.err
}

func userItem(u domain.User) map[string]types.AttributeValue {
	e := encoder{}
	pk, sk := userKey(u.ID)
	email := domain.LowerASCII(u.Email)
	e.keys(pk, sk, orgUsersPK(u.OrganizationID), email, "user")
	e.str("id", u.ID)
	e.str("org_id", u.OrganizationID)
	e.str("email", email)
	e.str("name", u.Name)
	e.str("role", string(u.Role))
	e.str("password_hash", u.PasswordHash)
	e.bool("disabled", u.Disabled)
	e.bool("email_verified", u.EmailVerified)
	e.time("created_at", u.CreatedAt)
	e.time("updated_at", u.UpdatedAt)
	e.int(attrVersion, u.Version)
	return e
}

func userFromItem(item map[string]types.AttributeValue) (domain.User, error) {
	d := decoder{item: item}
	u := domain.User{
		ID:             d.str("id"),
		OrganizationID: d.str("org_id"),
		Email:          d.str("email"),
		Name:           d.str("name"),
		Role:           domain.Role(d.str("role")),
		PasswordHash:   d.str("password_hash"),
		Disabled:       d.bool("disabled"),
		EmailVerified:  d.bool("email_verified"),
		CreatedAt:      d.time("created_at"),
		UpdatedAt:      d.time("updated_at"),
		Version:        d.int(attrVersion),
	}
	return u, d.err
}

func emailClaimItem(email, userID string) map[string]types.AttributeValue {
	e := encoder{}
	pk, sk := emailKey(email)
	e.keys(pk, sk, "", "", "email")
	e.str(attrUserID, userID)
	return e
}

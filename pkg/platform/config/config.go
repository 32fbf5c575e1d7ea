package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"orgauth/pkg/domain"
)

// Config is every setting of an orgauth process. Each handler's own Config
// lists the subset it reads.
type Config struct {
	Issuer              string        // ISSUER, required: https URL (http on loopback)
	Table               string        // TABLE_NAME
	SigningKeyIDs       []string      // SIGNING_KEY_IDS: comma-separated; the first signs
	Audiences           []string      // AUDIENCES: comma-separated APIs M2M clients may request
	ManagementAudience  string        // MANAGEMENT_AUDIENCE (default orgauth:management)
	AccessTokenLifetime time.Duration // ACCESS_TOKEN_LIFETIME (default 1h)
	OrgCacheTTL         time.Duration // ORG_CACHE_TTL (default 30s)
	JWKSMaxAge          time.Duration // JWKS_MAX_AGE (default 5m)
	KeySetRefresh       time.Duration // KEYSET_REFRESH (default 60s): how long a function keeps the signing key set it read
	RefreshLifetime     time.Duration // REFRESH_TOKEN_LIFETIME: a refresh family's absolute end after sign-in (default 720h)
	RefreshIdleTimeout  time.Duration // REFRESH_TOKEN_IDLE_TIMEOUT: a refresh token unused this long expires (default 168h)
	Region              string        // AWS_REGION (default us-east-1)
	DynamoDBEndpoint    string        // DYNAMODB_ENDPOINT: a local emulator; empty for AWS
	KMSEndpoint         string        // KMS_ENDPOINT: a local emulator; empty for AWS
	LogLevel            slog.Level    // LOG_LEVEL (default info)
	MetricsNamespace    string        // METRICS_NAMESPACE: CloudWatch namespace for EMF metrics; empty turns them off
	SSOKeyID            string        // SSO_KEY_ID: the symmetric KMS key of organizations' upstream client secrets
	UpstreamTimeout     time.Duration // UPSTREAM_TIMEOUT (default 5s): each call to an organization's identity provider
}

// FromEnv reads the configuration through getenv (os.Getenv in main).
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Issuer:             strings.TrimRight(getenv("ISSUER"), "/"),
		Table:              getenv("TABLE_NAME"),
		SigningKeyIDs:      list(getenv("SIGNING_KEY_IDS")),
		Audiences:          list(getenv("AUDIENCES")),
		ManagementAudience: or(getenv("MANAGEMENT_AUDIENCE"), "orgauth:management"),
		Region:             or(getenv("AWS_REGION"), "us-east-1"),
		DynamoDBEndpoint:   getenv("DYNAMODB_ENDPOINT"),
		KMSEndpoint:        getenv("KMS_ENDPOINT"),
		MetricsNamespace:   getenv("METRICS_NAMESPACE"),
		SSOKeyID:           getenv("SSO_KEY_ID"),
	}
	var errs []error
	durations := []struct {
		name string
		dst  *time.Duration
		def  time.Duration
	}{
		{"ACCESS_TOKEN_LIFETIME", &c.AccessTokenLifetime, time.Hour},
		{"ORG_CACHE_TTL", &c.OrgCacheTTL, 30 * time.Second},
		{"JWKS_MAX_AGE", &c.JWKSMaxAge, 5 * time.Minute},
		{"KEYSET_REFRESH", &c.KeySetRefresh, time.Minute},
		{"REFRESH_TOKEN_LIFETIME", &c.RefreshLifetime, 30 * 24 * time.Hour},
		{"REFRESH_TOKEN_IDLE_TIMEOUT", &c.RefreshIdleTimeout, 7 * 24 * time.Hour},
		{"UPSTREAM_TIMEOUT", &c.UpstreamTimeout, 5 * time.Second},
	}
	for _, d := range durations {
		*d.dst = d.def
		if v := getenv(d.name); v != "" {
			x, err := time.ParseDuration(v)
			if err != nil || x < 0 {
				errs = append(errs, fmt.Errorf("%s: want a duration such as 1h or 30s, got %q", d.name, v))
				continue
			}
			*d.dst = x
		}
	}
	if err := c.LogLevel.UnmarshalText([]byte(or(getenv("LOG_LEVEL"), "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL: %v", err))
	}
	if err := CheckIssuer(c.Issuer); err != nil {
		errs = append(errs, fmt.Errorf("ISSUER: %v", err))
	}
	if c.Table == "" {
		errs = append(errs, errors.New("TABLE_NAME: the DynamoDB table name is required"))
	}
	if len(c.SigningKeyIDs) == 0 {
		errs = append(errs, errors.New("SIGNING_KEY_IDS: at least one KMS key id, ARN or alias is required"))
	}
	return c, errors.Join(errs...)
}

// DefaultAudience is the audience of a sign-in that names none: the first
// configured API, or none when there is no API.
func (c Config) DefaultAudience() string {
	if len(c.Audiences) == 0 {
		return ""
	}
	return c.Audiences[0]
}

// TokenAudiences are every audience the token endpoint issues for: the
// configured APIs and orgauth's own management API.
func (c Config) TokenAudiences() []string {
	out := slices.Clone(c.Audiences)
	if c.ManagementAudience != "" && !slices.Contains(out, c.ManagementAudience) {
		out = append(out, c.ManagementAudience)
	}
	return out
}

// CheckIssuer enforces OpenID Connect Discovery §3: the issuer is an https
// URL with no query or fragment; http is allowed on loopback for local use.
func CheckIssuer(s string) error {
	if s == "" {
		return errors.New("required")
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q must have no query, fragment or userinfo", s)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && domain.IsLoopback(u.Hostname())) {
		return fmt.Errorf("%q must be https (http only on loopback)", s)
	}
	return nil
}

func list(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

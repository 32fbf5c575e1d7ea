package config

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"orgauth/pkg/domain"
)

// Config is every setting of an orgauth process. Each handler's own Config
// lists the subset it reads.
type Config struct {
	Issuer              string        // ISSUER, required: https URL (http on loopback), kept exactly as given (a trailing slash stays in iss)
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
	TokenReuse          bool          // TOKEN_REUSE: on (default) or off: server-side reuse of client_credentials tokens
	// TOKEN_QUOTAS: plan=tokens pairs, comma-separated, over
	// domain.DefaultTokenQuotas: each plan's monthly M2M token quota.
	TokenQuotas domain.TokenQuotas
	// QUOTA_SHARDS (default 1): the items one organization's monthly count
	// is spread over. QUOTA_FLUSH_TOKENS (default 50) and
	// QUOTA_FLUSH_INTERVAL (default 10s): a warm instance adds its count to
	// the table every so many tokens or seconds, whichever comes first.
	QuotaShards        int
	QuotaFlushTokens   int
	QuotaFlushInterval time.Duration
	// The deadlines of every DynamoDB and KMS call, all well under the
	// function's 10 s timeout: a dependency that is down or slow is a 503,
	// never a hang.
	AWSAttemptTimeout time.Duration // AWS_ATTEMPT_TIMEOUT (default 1.5s): one HTTP attempt
	AWSCallTimeout    time.Duration // AWS_CALL_TIMEOUT (default 3s): one call, all its attempts and backoffs
	AWSMaxAttempts    int           // AWS_MAX_ATTEMPTS (default 3, at most 10): attempts per call
	AWSMaxBackoff     time.Duration // AWS_MAX_BACKOFF (default 200ms): the longest wait between attempts
	// DeviceCookieKey (DEVICE_COOKIE_KEY: base64 of 32 or more random
	// bytes) signs the login's device cookies: an explicit override, for
	// tests. A deployed stage sets DeviceCookieKMSKeyID
	// (DEVICE_COOKIE_KMS_KEY_ID) instead: the symmetric KMS key that wraps
	// the stage's device-cookie key, kept in the table as a ciphertext
	// (pkg/keys/datakey). Without either, each instance makes its own key.
	DeviceCookieKey      []byte
	DeviceCookieKMSKeyID string
	// OriginVerifySHA256 (ORIGIN_VERIFY_SHA256: 64 hex digits) is the
	// SHA-256 of the origin secret CloudFront sends in X-Origin-Verify, when
	// the stage is behind CloudFront (EdgeProtection): requests without
	// the secret are refused, and the client address is taken from
	// CloudFront-Viewer-Address. Empty: no edge. Only the hash is
	// configured, so the functions' settings do not reveal the secret.
	OriginVerifySHA256 string
}

// The defaults of the AWS call deadlines. The worst case of one call is
// DefaultAWSCallTimeout, so a request that makes two slow calls in a row
// still answers within the function's 10 s timeout.
const (
	DefaultAWSAttemptTimeout = 1500 * time.Millisecond
	DefaultAWSCallTimeout    = 3 * time.Second
	DefaultAWSMaxAttempts    = 3
	DefaultAWSMaxBackoff     = 200 * time.Millisecond
)

// AWSDeadlines returns c with every unset AWS deadline at its default, for
// a Config built without FromEnv.
func (c Config) AWSDeadlines() Config {
	if c.AWSAttemptTimeout <= 0 {
		c.AWSAttemptTimeout = DefaultAWSAttemptTimeout
	}
	if c.AWSCallTimeout <= 0 {
		c.AWSCallTimeout = DefaultAWSCallTimeout
	}
	if c.AWSMaxAttempts <= 0 {
		c.AWSMaxAttempts = DefaultAWSMaxAttempts
	}
	if c.AWSMaxBackoff <= 0 {
		c.AWSMaxBackoff = DefaultAWSMaxBackoff
	}
	return c
}

// MaxAccessTokenLifetime bounds ACCESS_TOKEN_LIFETIME.
const MaxAccessTokenLifetime = 24 * time.Hour

// FromEnv reads the configuration through getenv (os.Getenv in main).
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Issuer:               getenv("ISSUER"),
		Table:                getenv("TABLE_NAME"),
		SigningKeyIDs:        list(getenv("SIGNING_KEY_IDS")),
		Audiences:            list(getenv("AUDIENCES")),
		ManagementAudience:   or(getenv("MANAGEMENT_AUDIENCE"), "orgauth:management"),
		Region:               or(getenv("AWS_REGION"), "us-east-1"),
		DynamoDBEndpoint:     getenv("DYNAMODB_ENDPOINT"),
		KMSEndpoint:          getenv("KMS_ENDPOINT"),
		MetricsNamespace:     getenv("METRICS_NAMESPACE"),
		SSOKeyID:             getenv("SSO_KEY_ID"),
		DeviceCookieKMSKeyID: getenv("DEVICE_COOKIE_KMS_KEY_ID"),
		OriginVerifySHA256:   getenv("ORIGIN_VERIFY_SHA256"),
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
		{"QUOTA_FLUSH_INTERVAL", &c.QuotaFlushInterval, 10 * time.Second},
		{"AWS_ATTEMPT_TIMEOUT", &c.AWSAttemptTimeout, DefaultAWSAttemptTimeout},
		{"AWS_CALL_TIMEOUT", &c.AWSCallTimeout, DefaultAWSCallTimeout},
		{"AWS_MAX_BACKOFF", &c.AWSMaxBackoff, DefaultAWSMaxBackoff},
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
	c.AWSMaxAttempts = DefaultAWSMaxAttempts
	if v := getenv("AWS_MAX_ATTEMPTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10 {
			errs = append(errs, fmt.Errorf("AWS_MAX_ATTEMPTS: want a whole number from 1 to 10, got %q", v))
		} else {
			c.AWSMaxAttempts = n
		}
	}
	if c.AWSAttemptTimeout == 0 || c.AWSCallTimeout == 0 {
		errs = append(errs, errors.New("AWS_ATTEMPT_TIMEOUT, AWS_CALL_TIMEOUT: a deadline of zero would wait forever"))
	}
	errs = append(errs, c.readQuotas(getenv)...)
	switch v := strings.ToLower(getenv("TOKEN_REUSE")); v {
	case "", "on", "true", "1":
		c.TokenReuse = true
	case "off", "false", "0":
	default:
		errs = append(errs, fmt.Errorf("TOKEN_REUSE: want on or off, got %q", v))
	}
	// Signing-key rotation waits for the longest token to expire
	// (pkg/keys): an unbounded lifetime would make that wait unbounded.
	if c.AccessTokenLifetime < time.Minute || c.AccessTokenLifetime > MaxAccessTokenLifetime {
		errs = append(errs, fmt.Errorf("ACCESS_TOKEN_LIFETIME: must be 1m to %s, got %s", MaxAccessTokenLifetime, c.AccessTokenLifetime))
	}
	if v := getenv("DEVICE_COOKIE_KEY"); v != "" {
		k, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(k) < 32 {
			errs = append(errs, errors.New("DEVICE_COOKIE_KEY: want the base64 of 32 or more random bytes"))
		}
		c.DeviceCookieKey = k
	}
	if v := c.OriginVerifySHA256; v != "" {
		if b, err := hex.DecodeString(v); err != nil || len(b) != sha256.Size {
			errs = append(errs, errors.New("ORIGIN_VERIFY_SHA256: want the 64 hex digits of the origin secret's SHA-256"))
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

// readQuotas reads TOKEN_QUOTAS, QUOTA_SHARDS and QUOTA_FLUSH_TOKENS.
func (c *Config) readQuotas(getenv func(string) string) []error {
	var errs []error
	c.TokenQuotas = maps.Clone(domain.DefaultTokenQuotas)
	for _, pair := range list(getenv("TOKEN_QUOTAS")) {
		name, n, _ := strings.Cut(pair, "=")
		plan, err := domain.ParsePlan(strings.TrimSpace(name))
		q, nerr := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
		if err != nil || nerr != nil || q < 0 {
			errs = append(errs, fmt.Errorf("TOKEN_QUOTAS: want plan=tokens pairs such as enterprise_large=1000000, got %q", pair))
			continue
		}
		c.TokenQuotas[plan] = q
	}
	ints := []struct {
		name     string
		dst      *int
		def, max int
	}{{"QUOTA_SHARDS", &c.QuotaShards, 1, 100}, {"QUOTA_FLUSH_TOKENS", &c.QuotaFlushTokens, 50, 100000}}
	for _, i := range ints {
		*i.dst = i.def
		if v := getenv(i.name); v != "" {
			x, err := strconv.Atoi(v)
			if err != nil || x < 1 || x > i.max {
				errs = append(errs, fmt.Errorf("%s: want a whole number from 1 to %d, got %q", i.name, i.max, v))
				continue
			}
			*i.dst = x
		}
	}
	return errs
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

// URL is an endpoint of the issuer (domain.IssuerURL).
func URL(issuer, path string) string { return domain.IssuerURL(issuer, path) }

// URL is URL(c.Issuer, path).
func (c Config) URL(path string) string { return URL(c.Issuer, path) }

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
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.ForceQuery {
		return fmt.Errorf("%q must have no query, fragment or userinfo", s)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && domain.IsLoopback(u.Hostname())) {
		return fmt.Errorf("%q must be https (http only on loopback)", s)
	}
	if strings.HasSuffix(u.Path, "//") {
		return fmt.Errorf("%q must end with at most one slash", s)
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

package metrics

import (
	"context"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/smithy-go/middleware"
)

// Names of the metrics orgauth emits.
const (
	TokensIssued       = "TokensIssued"       // dimensions: GrantType, ClientType
	TokensReused       = "TokensReused"       // a client_credentials token answered again without signing; dimensions as TokensIssued
	ClientAuthFailures = "ClientAuthFailures" // dimensions: none (the alarm watches the total)
	QuotaRejections    = "QuotaRejections"    // a token refused (429) because the organization's monthly quota is used up; no dimensions
	AWSLatency         = "AWSLatency"         // dimensions: Service, Operation
)

// Recorder emits metrics. A nil *Recorder records nothing.
type Recorder struct {
	mu        sync.Mutex
	w         io.Writer
	namespace string
	now       func() time.Time
}

// New writes EMF lines to w for the CloudWatch namespace (one per stage,
// such as orgauth/prod); now may be nil.
func New(w io.Writer, namespace string, now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	return &Recorder{w: w, namespace: namespace, now: now}
}

// Dim is one dimension.
type Dim struct{ Name, Value string }

// Count records one occurrence of name.
func (r *Recorder) Count(name string, dims ...Dim) { r.put(name, "Count", 1, dims) }

// Latency records a duration in milliseconds.
func (r *Recorder) Latency(name string, d time.Duration, dims ...Dim) {
	r.put(name, "Milliseconds", float64(d.Microseconds())/1000, dims)
}

// put writes one EMF line. It is appended by hand rather than marshalled
// from a map: a token request writes three of them (two AWS calls and the
// token), and reflection made them a visible part of the request's cost.
// TestEMFLine decodes the lines with encoding/json.
func (r *Recorder) put(name, unit string, value float64, dims []Dim) {
	if r == nil {
		return
	}
	b := make([]byte, 0, 256)
	b = append(b, `{"_aws":{"Timestamp":`...)
	b = strconv.AppendInt(b, r.now().UnixMilli(), 10)
	b = append(b, `,"CloudWatchMetrics":[{"Namespace":`...)
	b = appendString(b, r.namespace)
	b = append(b, `,"Dimensions":[[`...)
	for i, d := range dims {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, d.Name)
	}
	b = append(b, `]],"Metrics":[{"Name":`...)
	b = appendString(b, name)
	b = append(b, `,"Unit":`...)
	b = appendString(b, unit)
	b = append(b, `}]}]}`...)
	for _, d := range dims {
		b = append(b, ',')
		b = appendString(b, d.Name)
		b = append(b, ':')
		b = appendString(b, d.Value)
	}
	b = append(b, ',')
	b = appendString(b, name)
	b = append(b, ':')
	if math.IsInf(value, 0) || math.IsNaN(value) {
		value = 0
	}
	b = strconv.AppendFloat(b, value, 'f', -1, 64)
	b = append(b, "}\n"...)
	r.mu.Lock()
	defer r.mu.Unlock()
	_, _ = r.w.Write(b)
}

// appendString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD.
func appendString(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// AWSMiddleware times every AWS SDK call (DynamoDB, KMS) and records it as
// AWSLatency by service and operation. Add it to aws.Config.APIOptions.
func (r *Recorder) AWSMiddleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("orgauthLatency",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			start := r.now()
			out, md, err := next.HandleInitialize(ctx, in)
			r.Latency(AWSLatency, r.now().Sub(start),
				Dim{"Service", middleware.GetServiceID(ctx)}, Dim{"Operation", middleware.GetOperationName(ctx)})
			return out, md, err
		}), middleware.Before)
}

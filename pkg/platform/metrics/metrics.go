package metrics

import (
	"context"
	"encoding/json"
	"io"
	"sync"
	"time"

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

type metricDef struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type directive struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []metricDef `json:"Metrics"`
}

type awsMeta struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
}

func (r *Recorder) put(name, unit string, value float64, dims []Dim) {
	if r == nil {
		return
	}
	line := map[string]any{name: value}
	keys := make([]string, 0, len(dims))
	for _, d := range dims {
		line[d.Name] = d.Value
		keys = append(keys, d.Name)
	}
	line["_aws"] = awsMeta{
		Timestamp:         r.now().UnixMilli(),
		CloudWatchMetrics: []directive{{Namespace: r.namespace, Dimensions: [][]string{keys}, Metrics: []metricDef{{Name: name, Unit: unit}}}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, _ = r.w.Write(append(b, '\n'))
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

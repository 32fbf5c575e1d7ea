package wiring

import (
	"context"
	"net"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go/middleware"

	"orgauth/pkg/platform/config"
)

// withDeadlines bounds every call of the clients built from awsCfg:
//   - each HTTP attempt ends after cfg.AWSAttemptTimeout (connect, send and
//     read the whole response), and a connection is given up after it too;
//   - a call makes at most cfg.AWSMaxAttempts attempts, with backoffs of at
//     most cfg.AWSMaxBackoff, under the SDK's retry token bucket;
//   - the whole call, attempts and backoffs together, ends after
//     cfg.AWSCallTimeout, whatever the caller's context allows.
//
// A dependency that accepts connections and never answers therefore costs
// a request at most AWSCallTimeout per call, and the error it gets is one
// unavailable.Is recognises (a deadline or a network timeout): a 503.
func withDeadlines(awsCfg aws.Config, cfg config.Config) aws.Config {
	awsCfg.HTTPClient = awshttp.NewBuildableClient().
		WithTimeout(cfg.AWSAttemptTimeout).
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = cfg.AWSAttemptTimeout })
	awsCfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = cfg.AWSMaxAttempts
			o.MaxBackoff = cfg.AWSMaxBackoff
		})
	}
	awsCfg.RetryMaxAttempts = cfg.AWSMaxAttempts
	awsCfg.APIOptions = append(slices.Clone(awsCfg.APIOptions), callDeadline(cfg.AWSCallTimeout))
	return awsCfg
}

// callDeadline puts a deadline on the context of a whole call, before the
// retry loop starts.
func callDeadline(d time.Duration) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("orgauthCallDeadline",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				ctx, cancel := context.WithTimeout(ctx, d)
				defer cancel()
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	}
}

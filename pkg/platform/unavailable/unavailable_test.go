package unavailable

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
)

type codeErr string

func (c codeErr) Error() string     { return string(c) }
func (c codeErr) ErrorCode() string { return string(c) }

type statusErr int

func (s statusErr) Error() string       { return fmt.Sprint(int(s)) }
func (s statusErr) HTTPStatusCode() int { return int(s) }

func TestIs(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for name, c := range map[string]struct {
		err  error
		want bool
	}{
		"nil":               {nil, false},
		"marked":            {fmt.Errorf("x: %w", ErrUnavailable), true},
		"deadline":          {fmt.Errorf("get: %w", context.DeadlineExceeded), true},
		"refused":           {fmt.Errorf("get: %w", refused), true},
		"throttled":         {fmt.Errorf("get: %w", codeErr("ProvisionedThroughputExceededException")), true},
		"kms throttled":     {codeErr("ThrottlingException"), true},
		"kms internal":      {codeErr("KMSInternalException"), true},
		"503":               {fmt.Errorf("get: %w", statusErr(503)), true},
		"429":               {statusErr(429), true},
		"400":               {statusErr(400), false},
		"validation":        {codeErr("ValidationException"), false},
		"conditional check": {codeErr("ConditionalCheckFailedException"), false},
		"canceled":          {context.Canceled, false},
		"plain":             {errors.New("boom"), false},
	} {
		if got := Is(c.err); got != c.want {
			t.Errorf("%s: Is(%v) = %v, want %v", name, c.err, got, c.want)
		}
	}
}

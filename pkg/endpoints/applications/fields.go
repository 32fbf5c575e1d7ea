package applications

import (
	"time"

	"orgauth/pkg/domain"
)

// Bounds of rotate-secret's grace period.
const (
	DefaultGracePeriod = 24 * time.Hour
	MaxGracePeriod     = 7 * 24 * time.Hour
)

// fieldError is a validation failure of one request field; the rules of an
// application's own fields live in domain (Application.Validate).
type fieldError = domain.FieldError

func invalid(field, format string, args ...any) *fieldError {
	return domain.Invalid(field, format, args...)
}

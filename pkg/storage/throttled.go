package storage

import "orgauth/pkg/domain"

// KeepThrottled makes an application update keep the stored
// ThrottledUntil, which only ThrottleApplication changes: both stores'
// UpdateApplication wrap their function in it.
func KeepThrottled(fn func(domain.Application) (domain.Application, error)) func(domain.Application) (domain.Application, error) {
	return func(old domain.Application) (domain.Application, error) {
		next, err := fn(old)
		next.ThrottledUntil = old.ThrottledUntil
		return next, err
	}
}

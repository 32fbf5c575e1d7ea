package storage

import (
	"context"
	"time"

	"orgauth/pkg/domain"
)

// WithConsole is s with the developer console (domain.ConsoleApplication)
// among its applications: GetApplication returns it, and it cannot be
// changed, deleted or transferred (ErrNotFound), nor created. It is listed
// in no organization, since it belongs to none.
func WithConsole(s Store, issuer string) Store {
	if c, ok := s.(consoleStore); ok {
		s = c.Store
	}
	return consoleStore{Store: s, console: domain.ConsoleApplication(issuer)}
}

type consoleStore struct {
	Store
	console domain.Application
}

func (s consoleStore) GetApplication(ctx context.Context, clientID string) (domain.Application, error) {
	if domain.IsConsole(clientID) {
		c := s.console
		c.CallbackURLs = append([]string(nil), c.CallbackURLs...)
		c.LogoutURLs = append([]string(nil), c.LogoutURLs...)
		c.AllowedOrigins = append([]string(nil), c.AllowedOrigins...)
		return c, nil
	}
	return s.Store.GetApplication(ctx, clientID)
}

func (s consoleStore) CreateApplication(ctx context.Context, a domain.Application) error {
	if domain.IsConsole(a.ClientID) {
		return domain.ErrAlreadyExists
	}
	return s.Store.CreateApplication(ctx, a)
}

func (s consoleStore) UpdateApplication(ctx context.Context, clientID string, fn func(domain.Application) (domain.Application, error)) (domain.Application, error) {
	if domain.IsConsole(clientID) {
		return domain.Application{}, domain.ErrNotFound
	}
	return s.Store.UpdateApplication(ctx, clientID, fn)
}

func (s consoleStore) DeleteApplication(ctx context.Context, clientID string) error {
	if domain.IsConsole(clientID) {
		return domain.ErrNotFound
	}
	return s.Store.DeleteApplication(ctx, clientID)
}

func (s consoleStore) TransferApplication(ctx context.Context, clientID, from, to string, at time.Time) (domain.Application, error) {
	if domain.IsConsole(clientID) {
		return domain.Application{}, domain.ErrNotFound
	}
	return s.Store.TransferApplication(ctx, clientID, from, to, at)
}

package domain

import (
	"errors"
	"fmt"
)

// Why a user may not sign in to an organization. Callers choose the words
// (an OAuth error, a page, a WWW-Authenticate challenge) with errors.Is.
var (
	// ErrUserGone: the user no longer exists.
	ErrUserGone = errors.New("the user no longer exists")
	// ErrUserDisabled: the user's account is disabled.
	ErrUserDisabled = errors.New("the user is disabled")
	// ErrUserNotMember: the user belongs to another organization.
	ErrUserNotMember = errors.New("the user is not a member of the organization")
)

// MaySignIn reports whether u may sign in to (or keep using tokens of) the
// organization orgID: the account is enabled and a member of it. It returns
// nil, ErrUserDisabled or ErrUserNotMember.
func (u User) MaySignIn(orgID string) error {
	switch {
	case u.Disabled:
		return ErrUserDisabled
	case u.OrganizationID != orgID:
		return ErrUserNotMember
	}
	return nil
}

// SignInUser is MaySignIn for a user just read from a store: a miss
// (ErrNotFound) is ErrUserGone, any other read error is returned wrapped
// and is not a refusal.
func SignInUser(u User, readErr error, orgID string) (User, error) {
	switch {
	case errors.Is(readErr, ErrNotFound):
		return User{}, ErrUserGone
	case readErr != nil:
		return User{}, fmt.Errorf("read user: %w", readErr)
	}
	if err := u.MaySignIn(orgID); err != nil {
		return User{}, err
	}
	return u, nil
}

// IsSignInRefusal reports whether err is one of the refusals above rather
// than a failure to read.
func IsSignInRefusal(err error) bool {
	return errors.Is(err, ErrUserGone) || errors.Is(err, ErrUserDisabled) || errors.Is(err, ErrUserNotMember)
}

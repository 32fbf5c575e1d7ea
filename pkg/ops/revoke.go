package ops

import (
	"context"
	"errors"
	"fmt"
	"time"

	"orgauth/pkg/domain"
)

// Holdings is what a store keeps of what users and applications hold:
// refresh families and sessions, listed by holder so that they can end
// with what they stand for. pkg/storage's Store implements it.
type Holdings interface {
	ListClientRefreshFamilies(ctx context.Context, clientID string, now time.Time) ([]domain.RefreshFamily, error)
	ListUserRefreshFamilies(ctx context.Context, userID string, now time.Time) ([]domain.RefreshFamily, error)
	RevokeRefreshFamily(ctx context.Context, id string, now time.Time) error
	ListUserSessions(ctx context.Context, userID string, now time.Time) ([]domain.Session, error)
	DeleteSession(ctx context.Context, hash []byte) error
}

// RevokeFamiliesOfClient revokes every live refresh family of an
// application: deleting it must end them. It returns how many it revoked.
func RevokeFamiliesOfClient(ctx context.Context, st Holdings, clientID string, now time.Time) (int, error) {
	fams, err := st.ListClientRefreshFamilies(ctx, clientID, now)
	if err != nil {
		return 0, fmt.Errorf("list the refresh families of application %s: %w", clientID, err)
	}
	return revokeAll(ctx, st, fams, now)
}

// RevokeFamiliesOfUser revokes every live refresh family of a user:
// disabling them must end them.
func RevokeFamiliesOfUser(ctx context.Context, st Holdings, userID string, now time.Time) (int, error) {
	fams, err := st.ListUserRefreshFamilies(ctx, userID, now)
	if err != nil {
		return 0, fmt.Errorf("list the refresh families of user %s: %w", userID, err)
	}
	return revokeAll(ctx, st, fams, now)
}

// RevokeFamiliesOfUserForClient revokes a user's live refresh families of
// one application: withdrawing a consent must end them.
func RevokeFamiliesOfUserForClient(ctx context.Context, st Holdings, userID, clientID string, now time.Time) (int, error) {
	fams, err := st.ListUserRefreshFamilies(ctx, userID, now)
	if err != nil {
		return 0, fmt.Errorf("list the refresh families of user %s: %w", userID, err)
	}
	var mine []domain.RefreshFamily
	for _, f := range fams {
		if f.ClientID == clientID {
			mine = append(mine, f)
		}
	}
	return revokeAll(ctx, st, mine, now)
}

// revokeAll revokes each family, going on past failures; a family gone
// meanwhile counts as done.
func revokeAll(ctx context.Context, st Holdings, fams []domain.RefreshFamily, now time.Time) (int, error) {
	n := 0
	var errs []error
	for _, f := range fams {
		err := st.RevokeRefreshFamily(ctx, f.ID, now)
		switch {
		case err == nil:
			n++
		case errors.Is(err, domain.ErrNotFound):
		default:
			errs = append(errs, fmt.Errorf("revoke refresh family %s: %w", f.ID, err))
		}
	}
	return n, errors.Join(errs...)
}

// EndSessionsOfUser deletes every live session of a user: disabling them
// must sign them out everywhere.
func EndSessionsOfUser(ctx context.Context, st Holdings, userID string, now time.Time) (int, error) {
	sessions, err := st.ListUserSessions(ctx, userID, now)
	if err != nil {
		return 0, fmt.Errorf("list the sessions of user %s: %w", userID, err)
	}
	return endAll(ctx, st, sessions)
}

// endAll deletes each session, going on past failures; a session gone
// meanwhile counts as ended.
func endAll(ctx context.Context, st Holdings, sessions []domain.Session) (int, error) {
	n := 0
	var errs []error
	for _, ss := range sessions {
		err := st.DeleteSession(ctx, ss.Hash)
		switch {
		case err == nil:
			n++
		case errors.Is(err, domain.ErrNotFound):
		default:
			errs = append(errs, fmt.Errorf("end session %s: %w", ss.ID, err))
		}
	}
	return n, errors.Join(errs...)
}

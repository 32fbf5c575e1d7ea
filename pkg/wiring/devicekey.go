package wiring

import (
	"context"
	"fmt"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/keys/datakey"
	"orgauth/pkg/platform/required"
)

// DeviceKeySource is where the authorize function gets the stage's
// device-cookie key (pkg/signin/device.go), once, at cold start.
type DeviceKeySource interface {
	DeviceKey(ctx context.Context) ([]byte, error)
}

// DeviceKeyTimeout bounds loading the device-cookie key at cold start: a
// read, at most one GenerateDataKey, one conditional put and a re-read, and
// a Decrypt, each call bounded by the AWS deadlines too. It is well under
// Lambda's 10 s init phase.
const DeviceKeyTimeout = 5 * time.Second

// StaticDeviceKey is DEVICE_COOKIE_KEY: a key given explicitly, for tests.
type StaticDeviceKey []byte

// DeviceKey returns the key.
func (k StaticDeviceKey) DeviceKey(context.Context) ([]byte, error) { return k, nil }

// KMSDeviceKey is the stage's device-cookie key as deployed: a KMS data key
// of KeyID (DEVICE_COOKIE_KMS_KEY_ID), kept in Store only as its
// ciphertext, made by the first cold start that finds none
// (pkg/keys/datakey).
type KMSDeviceKey struct {
	KMS   datakey.KMS
	Store datakey.Store
	KeyID string
	Now   func() time.Time
}

// DeviceKey reads (or makes) and decrypts the stage's key.
func (k KMSDeviceKey) DeviceKey(ctx context.Context) ([]byte, error) {
	return datakey.Load(ctx, k.KMS, k.Store, k.KeyID, domain.DeviceCookieKeyName, k.Now().UTC())
}

// DeviceKeys is the stage's source of the device-cookie key:
// DEVICE_COOKIE_KEY when set, else the KMS-wrapped key of
// DEVICE_COOKIE_KMS_KEY_ID; nil when neither is set (local development
// without KMS), and sign-in then makes a key per instance and says so.
func (s Stage) DeviceKeys() (DeviceKeySource, error) {
	switch {
	case len(s.Cfg.DeviceCookieKey) > 0:
		return StaticDeviceKey(s.Cfg.DeviceCookieKey), nil
	case s.Cfg.DeviceCookieKMSKeyID != "":
		if err := required.Check("device cookie key (DEVICE_COOKIE_KMS_KEY_ID)", required.Dep{Name: "KMS", Value: s.KMS}); err != nil {
			return nil, err
		}
		return KMSDeviceKey{KMS: s.KMS, Store: s.Store, KeyID: s.Cfg.DeviceCookieKMSKeyID, Now: s.Now}, nil
	}
	return nil, nil
}

// LoadDeviceKey is the device-cookie key of the stage, from its source,
// within DeviceKeyTimeout; nil without a source.
//
// A source that fails fails the cold start, on purpose: an instance with a
// key of its own would neither accept the device cookies the rest of the
// stage issued, nor issue any the rest accepts, and would replace the
// owners' cookies it sees sign in, quietly turning the lockout protection
// off. A failed init is loud instead (the function's Errors alarm) and
// Lambda tries it again on the next request; a stage whose table or KMS is
// unreachable could not sign anyone in anyway.
func (s Stage) LoadDeviceKey() ([]byte, error) {
	src, err := s.DeviceKeys()
	if err != nil || src == nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), DeviceKeyTimeout)
	defer cancel()
	key, err := src.DeviceKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("device cookie key unavailable, refusing to start: %w", err)
	}
	return key, nil
}

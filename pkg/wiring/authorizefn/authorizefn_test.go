package authorizefn_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"orgauth/pkg/domain"
	"orgauth/pkg/testkit/fakekms"
	"orgauth/pkg/wiring"
	"orgauth/pkg/wiring/authorizefn"
	"orgauth/test/testenv"
)

// The first cold start of a stage makes its device-cookie key and keeps
// only the ciphertext, under the KMS key DEVICE_COOKIE_KMS_KEY_ID; the next
// ones read it. (That two instances accept each other's cookies is
// pkg/endpoints/authorize's TestDeviceCookieWorksAcrossInstances.)
func TestColdStartMakesTheStageKeyOnce(t *testing.T) {
	st := testenv.NewStack(t)
	st.Authorize()
	w, err := st.Stage.Store.GetWrappedKey(t.Context(), domain.DeviceCookieKeyName)
	if err != nil {
		t.Fatalf("no device-cookie key in the table after a cold start: %v", err)
	}
	if w.KMSKeyID != st.Env["DEVICE_COOKIE_KMS_KEY_ID"] || len(w.Ciphertext) == 0 {
		t.Fatalf("stored %+v", w)
	}
	st.Authorize()
	again, err := st.Stage.Store.GetWrappedKey(t.Context(), domain.DeviceCookieKeyName)
	if err != nil || string(again.Ciphertext) != string(w.Ciphertext) {
		t.Fatalf("a second cold start replaced the key: %v", err)
	}
}

// Without the key, the function does not start, and says why: an instance
// with a key of its own would quietly turn device cookies off.
func TestColdStartFailsWithoutTheKey(t *testing.T) {
	down := errors.New("dial tcp: connection refused")
	for name, breakIt := range map[string]func(*wiring.Stage){
		"KMS down": func(s *wiring.Stage) { s.KMS = downKMS{s.KMS, down} },
		"another KMS key": func(s *wiring.Stage) {
			s.KMS = fakekms.New("in-memory-sso", s.Cfg.DeviceCookieKMSKeyID) // same ids, other key material
		},
		"no KMS client": func(s *wiring.Stage) { s.KMS = nil },
	} {
		t.Run(name, func(t *testing.T) {
			st := testenv.NewStack(t)
			st.Authorize() // the stage's key exists
			stage := *st.Stage
			breakIt(&stage)
			_, err := authorizefn.New(stage)
			if err == nil || !strings.Contains(err.Error(), "device cookie key") {
				t.Fatalf("cold start: %v, want an error naming the device cookie key", err)
			}
		})
	}
	// On a new stage, nothing half-made is left behind.
	st := testenv.NewStack(t)
	stage := *st.Stage
	stage.KMS = downKMS{stage.KMS, down}
	if _, err := authorizefn.New(stage); !errors.Is(err, down) {
		t.Fatalf("cold start with KMS down: %v", err)
	}
	if _, err := st.Stage.Store.GetWrappedKey(t.Context(), domain.DeviceCookieKeyName); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("a failed cold start stored a key: %v", err)
	}
}

// DEVICE_COOKIE_KEY, for tests, overrides the stage's key: no KMS call,
// nothing stored.
func TestExplicitDeviceKeyOverrides(t *testing.T) {
	st := testenv.NewStack(t)
	stage := *st.Stage
	stage.Cfg.DeviceCookieKey = []byte(base64.StdEncoding.EncodeToString(make([]byte, 32)))
	k := fakekms.New("in-memory-sso", stage.Cfg.DeviceCookieKMSKeyID)
	stage.KMS = k
	if _, err := authorizefn.New(stage); err != nil {
		t.Fatal(err)
	}
	if k.Calls() != 0 {
		t.Fatalf("%d KMS calls with an explicit key", k.Calls())
	}
	if _, err := st.Stage.Store.GetWrappedKey(t.Context(), domain.DeviceCookieKeyName); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("an explicit key made a stored one: %v", err)
	}
}

type downKMS struct {
	wiring.SecretsAPI
	err error
}

func (d downKMS) Decrypt(context.Context, *kms.DecryptInput, ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	return nil, d.err
}

func (d downKMS) GenerateDataKey(context.Context, *kms.GenerateDataKeyInput, ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	return nil, d.err
}

package signin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"sync"
	"time"

	"orgauth/pkg/domain"
)

// Device cookies (OWASP, "Slow down online guessing attacks with device
// cookies"): a successful password sign-in earns the browser a cookie bound
// to the account. A browser that presents a valid one for the account it
// signs in to is exempt from the account-wide delay, and is throttled per
// device instead; so strangers failing on purpose can slow down everyone
// else's guessing at an account, but not its owner's usual browser.
//
// The cookie is v1.<account>.<expiry>.<id>.<mac>: <account> a hash of the
// normalized email (the email itself never leaves the server in it), <id>
// random, <mac> HMAC-SHA256 under the stage's device key. No cookie is
// stored: the key is the only secret, one per stage, which the authorize
// function reads at cold start (Config.DeviceKey; a KMS data key kept in
// the table as its ciphertext, see pkg/wiring/devicekey.go).
type device struct {
	id string
}

func accountTag(email string) string {
	sum := sha256.Sum256([]byte("orgauth device account\x00" + email))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

func (s *Service) deviceMAC(payload string) string {
	m := hmac.New(sha256.New, s.deviceKey)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// newDeviceCookie is a device cookie for email's account, valid until
// expires.
func (s *Service) newDeviceCookie(email string, expires time.Time) string {
	payload := "v1." + accountTag(email) + "." + strconv.FormatInt(expires.Unix(), 10) + "." + domain.NewID()
	return payload + "." + s.deviceMAC(payload)
}

// trustedDevice returns the device behind cookie when it is a valid, live
// device cookie for email's account, or nil.
func (s *Service) trustedDevice(cookie, email string, now time.Time) *device {
	if cookie == "" || len(cookie) > 256 {
		return nil
	}
	i := strings.LastIndexByte(cookie, '.')
	if i < 0 {
		return nil
	}
	payload, mac := cookie[:i], cookie[i+1:]
	if !hmac.Equal([]byte(mac), []byte(s.deviceMAC(payload))) {
		return nil
	}
	p := strings.Split(payload, ".")
	if len(p) != 4 || p[0] != "v1" || !hmac.Equal([]byte(p[1]), []byte(accountTag(email))) {
		return nil
	}
	exp, err := strconv.ParseInt(p[2], 10, 64)
	if err != nil || !now.Before(time.Unix(exp, 0)) {
		return nil
	}
	return &device{id: p[3]}
}

// randomDeviceKey is a key for one process only, for a stage without
// DEVICE_COOKIE_KEY: its cookies (and sealed SSO states) do not verify in
// other processes, whose browsers are then treated as untrusted (slowed
// down, never locked out), and whose SSO sign-ins must start again. The
// functions of one process (the local server) share it.
var randomDeviceKey = sync.OnceValue(func() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
})

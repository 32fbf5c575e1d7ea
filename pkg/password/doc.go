// Package password hashes and checks user passwords: argon2id with the OWASP
// parameters (19 MiB, two passes, one lane), encoded as a PHC string, plus
// the password policy and a generator for operator-issued passwords.
//
// It must never log, return or store a password, and never compare hashes
// with anything but a constant-time comparison. Verify trusts the parameters
// in a stored hash only within sane bounds, so a corrupted or hostile hash
// cannot make a login allocate gigabytes or spin for minutes.
package password

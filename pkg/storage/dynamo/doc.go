// Package dynamo is orgauth's store on DynamoDB: organizations, users and
// applications in the single table described in DESIGN.md, behind the
// methods of storage.Store, whose contract pkg/storage/conformance checks
// (on both emulators, as on pkg/storage/memory).
//
// It must never load AWS configuration, exit the process, log, or use
// TransactWriteItems/TransactGetItems: every write is one conditional
// single-item write, which both emulators (dynalite, moto) support and which
// costs less. The caller passes in a client; CreateTable is for tests and
// local setup, the deployed table comes from template.yaml.
//
// # Item layout
//
// Keys are strings: pk and sk on the table, gsi1pk and gsi1sk on the one
// global secondary index gsi1 (projection ALL). Every item also carries
// "entity" (org, app, user, email) for humans reading the table.
//
//	entity   pk                 sk     gsi1pk               gsi1sk
//	org      ORG#<id>           ORG    ORGS                 ORG#<id>
//	app      APP#<client_id>    APP    ORG#<org_id>#APPS    <created_at>#<client_id>
//	user     USER#<id>          USER   ORG#<org_id>#USERS   <email>
//	email    EMAIL#<email>      EMAIL  -                    -
//	api      API#<audience>     API    APIS                 <audience>
//
// A user's partition USER#<id> also holds their consents (sk
// CONSENT#<client_id>) and an entry per refresh family (sk
// FAMILY#<family_id>, written before the family, expiring with it), so
// that a user's consents and families are one consistent query away.
//
// The sign-in flow's items (authorization codes, refresh families and
// tokens, revoked access-token ids) are laid out in codes.go, sessions in
// session.go, APIs, consents and the holdings listings in authz.go. A
// refresh family is on gsi1 under CLIENT#<client_id>#FAMILIES, a user's
// session under USER#<user_id>#SESSIONS.
//
// <created_at> is fixed-width UTC RFC 3339 with nine fractional digits
// (storage.CreationKey), so gsi1 lists an organization's applications in
// creation order. Emails are lower-cased wherever they appear.
//
// The email item is a claim that makes emails unique across orgauth: it
// holds the user_id of its owner. CreateUser claims the email first
// (attribute_not_exists), then puts the user (attribute_not_exists); if the
// second write fails it deletes the claim again, conditioned on its user_id.
// A crash between the two writes leaves a claim without a user: the email
// then stays taken, and GetUserByEmail reports ErrNotFound for it. Emails
// cannot change through UpdateUser.
//
// Attributes: strings as S (empty ones omitted); version as N; times as S in
// the same fixed-width UTC layout (zero times omitted), exact to the
// nanosecond; access_token_lifetime as N whole seconds; secret hashes as B;
// URL and scope lists as L of S, in order (empty ones omitted); disabled as
// BOOL.
//
// # Updates
//
// Update* is compare-and-swap on the version attribute: read (consistent),
// apply fn, put with "version = :read" and version+1. A lost race re-reads
// and re-applies fn, a few times with jittered backoff, then fails with
// domain.ErrConflict. The store keeps the UpdatedAt that fn returns: the
// caller owns the clock. Key fields must not change through fn.
//
// Gets are strongly consistent. Lists query gsi1, which DynamoDB keeps
// eventually consistent: a list right after a write may miss it on AWS
// (never on the emulators).
package dynamo

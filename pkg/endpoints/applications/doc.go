// Package appsapi is the management API for applications (OAuth clients):
// POST/GET /applications, GET/PATCH/DELETE /applications/{client_id} and
// POST /applications/{client_id}/rotate-secret; and GET /organization, the
// caller's own organization (read-only: its plan says whether M2M is offered).
//
// Callers present a bearer access token for the management audience.
// Members of an organization see all its applications; only the user who
// created one may change, rotate or delete it; applications of another
// organization do not exist for the caller (404, never 403). M2M tokens may
// read but not write.
//
// It must never return a client secret except once, in the response that
// created or rotated it, and never a secret hash at all. Errors are RFC 9457
// problem details that name the field at fault.
package applications

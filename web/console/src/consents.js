// Your consents: the applications a member allowed to act for them
// (GET /consents), and withdrawing one (DELETE /consents/{client_id}),
// which also ends that application's refresh tokens for them.

/** What one approved scope lets the application do, in words. */
export function scopeLabel(s) {
  const words = s.description || (s.audience ? `Use the permission “${s.scope}”` : s.scope);
  const where = s.audience ? s.api || s.audience : 'About you';
  return { where, words, scope: s.scope };
}

/** The rows of the consents page, by application name. */
export function consentRows(consents = []) {
  return consents
    .map((c) => ({
      clientId: c.client_id,
      name: c.application || 'A deleted application',
      gone: !c.application,
      grantedAt: c.granted_at,
      updatedAt: c.updated_at,
      scopes: (c.scopes || []).map(scopeLabel),
    }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.clientId.localeCompare(b.clientId));
}

/** Lists the signed-in member's consents. */
export async function listConsents(api) {
  return consentRows((await api('GET', '/consents')).data?.consents);
}

/** Withdraws the member's consent for clientId. */
export async function withdrawConsent(api, clientId) {
  await api('DELETE', `/consents/${encodeURIComponent(clientId)}`);
}

import { describe, expect, it, vi } from 'vitest';
import { consentRows, listConsents, scopeLabel, withdrawConsent } from './consents.js';

describe('consents', () => {
  it('words each scope: an API scope by its registered description, an OpenID one as about you', () => {
    expect(scopeLabel({ audience: 'https://api.example.com', api: 'Example API', scope: 'read', description: 'Read your data' }))
      .toEqual({ where: 'Example API', words: 'Read your data', scope: 'read' });
    expect(scopeLabel({ audience: 'https://api.example.com', scope: 'write', description: '' }))
      .toEqual({ where: 'https://api.example.com', words: 'Use the permission “write”', scope: 'write' });
    expect(scopeLabel({ scope: 'email', description: 'See your email address.' }))
      .toEqual({ where: 'About you', words: 'See your email address.', scope: 'email' });
  });

  it('lists consents by name, a deleted application included', () => {
    const rows = consentRows([
      { client_id: 'b', application: 'Zed', scopes: [], granted_at: '2026-01-02T00:00:00Z' },
      { client_id: 'a', application: '', scopes: [{ scope: 'openid', description: 'Know who you are' }] },
      { client_id: 'c', application: 'Alpha', scopes: [] },
    ]);
    expect(rows.map((r) => r.name)).toEqual(['A deleted application', 'Alpha', 'Zed']);
    expect(rows[0].gone).toBe(true);
    expect(rows[0].scopes).toEqual([{ where: 'About you', words: 'Know who you are', scope: 'openid' }]);
    expect(consentRows(undefined)).toEqual([]);
  });

  it('reads GET /consents and withdraws with DELETE /consents/{client_id}', async () => {
    const api = vi.fn(async (method) => (method === 'GET' ? { data: { consents: [{ client_id: 'x/y', application: 'App', scopes: [] }] } } : { status: 204 }));
    expect((await listConsents(api)).map((r) => r.clientId)).toEqual(['x/y']);
    expect(api).toHaveBeenCalledWith('GET', '/consents');
    await withdrawConsent(api, 'x/y');
    expect(api).toHaveBeenLastCalledWith('DELETE', '/consents/x%2Fy');
  });

  it('passes the API’s refusal on', async () => {
    const api = vi.fn(async () => {
      throw new Error('you have no consent for this application');
    });
    await expect(withdrawConsent(api, 'x')).rejects.toThrow('no consent');
  });
});

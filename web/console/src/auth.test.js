import { afterEach, describe, expect, it, vi } from 'vitest';
import * as oauth from 'oauth4webapi';
import { Auth, SignInRequired } from './auth.js';

const config = {
  issuer: 'http://127.0.0.1:3000',
  client_id: 'console-1',
  redirect_uri: 'http://127.0.0.1:3000/console/callback',
  post_logout_redirect_uri: 'http://127.0.0.1:3000/console/',
  audience: 'orgauth:management',
  scope: 'openid profile email offline_access',
};
const as = {
  issuer: config.issuer,
  authorization_endpoint: `${config.issuer}/authorize`,
  token_endpoint: `${config.issuer}/oauth/token`,
  revocation_endpoint: `${config.issuer}/oauth/revoke`,
  end_session_endpoint: `${config.issuer}/logout`,
};

function memoryStorage() {
  const m = new Map();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k) };
}

function newAuth(extra = {}) {
  const visited = [];
  const auth = new Auth(config, { storage: memoryStorage(), navigate: (u) => visited.push(new URL(u)), ...extra });
  auth.as = as;
  return { auth, visited };
}

afterEach(() => vi.unstubAllGlobals());

describe('Auth', () => {
  it('sends the browser to /authorize with PKCE S256, state, nonce and the management audience', async () => {
    const { auth, visited } = newAuth();
    await auth.signIn('/console/credentials/abc');
    const q = visited[0].searchParams;
    expect(visited[0].origin + visited[0].pathname).toBe(as.authorization_endpoint);
    expect(Object.fromEntries(['response_type', 'client_id', 'redirect_uri', 'scope', 'audience', 'code_challenge_method'].map((k) => [k, q.get(k)])))
      .toEqual({ response_type: 'code', client_id: 'console-1', redirect_uri: config.redirect_uri, scope: config.scope, audience: 'orgauth:management', code_challenge_method: 'S256' });
    const pending = JSON.parse(auth.storage.getItem('orgauth-console:sign-in'));
    expect(q.get('state')).toBe(pending.state);
    expect(q.get('nonce')).toBe(pending.nonce);
    expect(q.get('code_challenge')).toBe(await oauth.calculatePKCECodeChallenge(pending.verifier));
    expect(pending.returnTo).toBe('/console/credentials/abc');
  });

  it('refuses a callback it did not start', async () => {
    const { auth } = newAuth();
    await expect(auth.completeSignIn(`${config.redirect_uri}?code=x&state=y`)).rejects.toThrow(/not started here/);
  });

  it('renews once for concurrent callers, keeps the rotated refresh token, and judges time by the server', async () => {
    let now = 1_000_000;
    const { auth } = newAuth({ now: () => now });
    auth.tokens = { access: 'a0', refresh: 'r0', idToken: null, expiresAt: now - 1, claims: { sub: 'u1' } };
    const bodies = [];
    vi.stubGlobal('fetch', vi.fn(async (url, init) => {
      bodies.push(new URLSearchParams(init.body));
      return new Response(JSON.stringify({ access_token: `a${bodies.length}`, token_type: 'Bearer', expires_in: 3600, refresh_token: `r${bodies.length}` }), {
        status: 200, headers: { 'Content-Type': 'application/json', Date: new Date(now + 7200_000).toUTCString() },
      });
    }));
    const [x, y] = await Promise.all([auth.accessToken(), auth.accessToken()]);
    expect([x, y]).toEqual(['a1', 'a1']);
    expect(bodies).toHaveLength(1);
    expect(bodies[0].get('grant_type')).toBe('refresh_token');
    expect(bodies[0].get('refresh_token')).toBe('r0');
    expect(auth.tokens.refresh).toBe('r1');
    expect(auth.client[oauth.clockSkew]).toBe(7200);
    // Still fresh: no request.
    expect(await auth.accessToken()).toBe('a1');
    expect(bodies).toHaveLength(1);
    // Forced (after a 401): the next refresh token is the rotated one.
    now += 10;
    expect(await auth.accessToken(true)).toBe('a2');
    expect(bodies[1].get('refresh_token')).toBe('r1');
  });

  it('asks to sign in again when the refresh token is refused or absent', async () => {
    const { auth } = newAuth();
    auth.tokens = { access: 'a0', refresh: 'r0', expiresAt: 0, claims: {} };
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ error: 'invalid_grant' }), { status: 400, headers: { 'Content-Type': 'application/json' } })));
    await expect(auth.accessToken()).rejects.toBeInstanceOf(SignInRequired);
    auth.tokens = { access: 'a0', refresh: null, expiresAt: 0, claims: {} };
    await expect(auth.accessToken()).rejects.toBeInstanceOf(SignInRequired);
  });

  it('signs out: revokes the refresh token, then /logout with the ID token hint', async () => {
    const { auth, visited } = newAuth();
    auth.tokens = { access: 'a0', refresh: 'r0', idToken: 'id.token.x', expiresAt: 0, claims: {} };
    const revoked = [];
    vi.stubGlobal('fetch', vi.fn(async (url, init) => {
      revoked.push([String(url), new URLSearchParams(init.body).get('token')]);
      return new Response(null, { status: 200 });
    }));
    await auth.signOut();
    expect(revoked).toEqual([[as.revocation_endpoint, 'r0']]);
    expect(auth.signedIn).toBe(false);
    expect(Object.fromEntries(visited[0].searchParams)).toEqual({
      post_logout_redirect_uri: config.post_logout_redirect_uri, state: 'signed-out', id_token_hint: 'id.token.x',
    });
  });
});

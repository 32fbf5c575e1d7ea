// Signing in through orgauth with oauth4webapi: authorization code + PKCE
// (RFC 7636) for a public client, refresh-token rotation, RP-initiated
// logout. Tokens live in this module's memory only, never in storage: a
// reload signs in again through the orgauth session, without the form. Only
// the PKCE verifier, state and nonce of a sign-in in progress are kept in
// sessionStorage, for the trip to /authorize and back.
import * as oauth from 'oauth4webapi';

const PENDING = 'orgauth-console:sign-in';
// Renew this long before the access token expires.
const EARLY_MS = 60_000;

export class Auth {
  /**
   * @param {{issuer: string, client_id: string, redirect_uri: string,
   *   post_logout_redirect_uri: string, audience: string, scope: string}} config
   */
  constructor(config, { storage = sessionStorage, now = () => Date.now(), navigate = (u) => location.assign(u) } = {}) {
    this.config = config;
    this.storage = storage;
    this.now = now;
    this.navigate = navigate;
    this.client = { client_id: config.client_id, token_endpoint_auth_method: 'none' };
    this.issuer = new URL(config.issuer);
    // http only on loopback (make run), which orgauth itself enforces.
    this.options = this.issuer.protocol === 'http:' ? { [oauth.allowInsecureRequests]: true } : {};
    this.as = null;
    this.tokens = null; // {access, refresh, idToken, expiresAt, claims}
    this.renewing = null;
  }

  async discover() {
    const res = await oauth.discoveryRequest(this.issuer, { ...this.options, algorithm: 'oidc' });
    this.as = await oauth.processDiscoveryResponse(this.issuer, res);
  }

  get signedIn() {
    return this.tokens !== null;
  }

  /** The ID token's claims: sub, email, name. */
  get user() {
    return this.tokens?.claims ?? null;
  }

  /** Sends the browser to /authorize; returnTo is where to land afterwards. */
  async signIn(returnTo) {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    this.storage.setItem(PENDING, JSON.stringify({ verifier, state, nonce, returnTo }));
    const url = new URL(this.as.authorization_endpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.config.client_id,
      redirect_uri: this.config.redirect_uri,
      scope: this.config.scope,
      audience: this.config.audience,
      state,
      nonce,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }).toString();
    this.navigate(url.href);
  }

  /** Completes a sign-in at the callback URL; returns the saved returnTo. */
  async completeSignIn(currentUrl) {
    const raw = this.storage.getItem(PENDING);
    this.storage.removeItem(PENDING);
    if (!raw) throw new Error('This sign-in was not started here, or it was already used. Sign in again.');
    const pending = JSON.parse(raw);
    const params = oauth.validateAuthResponse(this.as, this.client, new URL(currentUrl), pending.state);
    const res = await oauth.authorizationCodeGrantRequest(
      this.as, this.client, oauth.None(), params, this.config.redirect_uri, pending.verifier, this.options,
    );
    this.syncClock(res);
    const result = await oauth.processAuthorizationCodeResponse(this.as, this.client, res, {
      expectedNonce: pending.nonce,
      requireIdToken: true,
    });
    this.keep(result);
    return pending.returnTo;
  }

  /**
   * Judges the ID token's exp and iat by orgauth's clock, from the Date of
   * its answer, so that a computer whose clock is wrong still signs in.
   */
  syncClock(res) {
    const server = Date.parse(res.headers.get('Date') ?? '');
    if (!Number.isNaN(server)) this.client[oauth.clockSkew] = Math.round((server - this.now()) / 1000);
  }

  keep(result) {
    const claims = oauth.getValidatedIdTokenClaims(result) ?? this.tokens?.claims;
    this.tokens = {
      access: result.access_token,
      // Every refresh token works once: keep the one that came with it.
      refresh: result.refresh_token ?? null,
      idToken: result.id_token ?? this.tokens?.idToken ?? null,
      expiresAt: this.now() + (result.expires_in ?? 300) * 1000,
      claims,
    };
  }

  /** An access token good for at least a minute; force renews it anyway. */
  async accessToken(force = false) {
    if (!this.tokens) throw new Error('not signed in');
    if (!force && this.tokens.expiresAt - EARLY_MS > this.now()) return this.tokens.access;
    return this.renew();
  }

  /** Renews the tokens with the refresh token, once at a time. */
  renew() {
    this.renewing ??= (async () => {
      try {
        const refresh = this.tokens?.refresh;
        if (!refresh) throw new SignInRequired();
        const res = await oauth.refreshTokenGrantRequest(this.as, this.client, oauth.None(), refresh, this.options);
        this.syncClock(res);
        try {
          this.keep(await oauth.processRefreshTokenResponse(this.as, this.client, res));
        } catch (err) {
          if (err instanceof oauth.ResponseBodyError && err.error === 'invalid_grant') throw new SignInRequired();
          throw err;
        }
        return this.tokens.access;
      } finally {
        this.renewing = null;
      }
    })();
    return this.renewing;
  }

  /** Ends the refresh token and the orgauth session, then lands on the post-logout URL. */
  async signOut() {
    const tokens = this.tokens;
    this.tokens = null;
    if (tokens?.refresh && this.as.revocation_endpoint) {
      try {
        await oauth.revocationRequest(this.as, this.client, oauth.None(), tokens.refresh, this.options);
      } catch {
        // The session ends at /logout anyway.
      }
    }
    const url = new URL(this.as.end_session_endpoint ?? new URL('/logout', this.issuer));
    const q = new URLSearchParams({ post_logout_redirect_uri: this.config.post_logout_redirect_uri, state: 'signed-out' });
    if (tokens?.idToken) q.set('id_token_hint', tokens.idToken);
    else q.set('client_id', this.config.client_id);
    url.search = q.toString();
    this.navigate(url.href);
  }
}

/** The refresh token is gone or refused: the user signs in again. */
export class SignInRequired extends Error {
  constructor() {
    super('Your sign-in has ended. Sign in again.');
  }
}

// Signs the demo user in to the demo SPA with npm openid-client, the way a
// browser SPA would, and exercises what follows. Usage:
//
//   node spa-flow.mjs ISSUER CLIENT_ID REDIRECT_URI AUDIENCE  (email and password on stdin, one per line)
//
// Steps: discovery; PKCE S256, state and nonce; the authorization URL; the
// built-in login form driven over HTTP (fetch with manual redirects and the
// CSRF cookie); the code exchange with ID token validation (iss, aud, nonce,
// RFC 9207 iss in the authorization response); userinfo; refresh-token
// rotation; revocation, after which refreshing fails with invalid_grant.
// Prints a JSON summary; exits 1 on the first failure.
import * as client from 'openid-client';

const [issuer, clientId, redirectUri, audience] = process.argv.slice(2);
let input = '';
for await (const chunk of process.stdin) input += chunk;
const [email, password] = input.split('\n');

function fail(step, err) {
  console.error(`${step} failed: ${err?.code ?? ''} ${err?.error ?? ''} ${err?.message ?? err}`);
  process.exit(1);
}

// Discovery, then a Configuration that expects the server's ID token alg.
let config;
try {
  const found = await client.discovery(new URL(issuer), clientId, undefined, client.None(), {
    execute: [client.allowInsecureRequests], // http on loopback only
  });
  const md = found.serverMetadata();
  config = new client.Configuration(md, clientId, {
    id_token_signed_response_alg: md.id_token_signing_alg_values_supported[0],
  }, client.None());
  client.allowInsecureRequests(config);
} catch (err) {
  fail('discovery', err);
}

const codeVerifier = client.randomPKCECodeVerifier();
const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
const state = client.randomState();
const nonce = client.randomNonce();
const authUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile email offline_access',
  code_challenge: codeChallenge,
  code_challenge_method: 'S256',
  state,
  nonce,
  audience,
});

// The login page, as a browser: keep cookies, follow nothing.
const jar = new Map();
const keep = (res) => {
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    jar.set(pair.slice(0, i), pair.slice(i + 1));
  }
};
const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

let callback;
try {
  const page = await fetch(authUrl, { redirect: 'manual' });
  keep(page);
  const html = await page.text();
  if (page.status !== 200) throw new Error(`GET /authorize: ${page.status}`);
  const field = (name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))?.[1];
  const form = new URLSearchParams({
    transaction: field('transaction') ?? '',
    csrf_token: field('csrf_token') ?? '',
    email,
    password,
  });
  const login = await fetch(new URL('/login', issuer), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie() },
    body: form,
  });
  if (login.status < 300 || login.status > 399) throw new Error(`POST /login: ${login.status} ${await login.text()}`);
  callback = new URL(login.headers.get('location'));
} catch (err) {
  fail('login', err);
}

let tokens;
try {
  tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
} catch (err) {
  fail('code exchange', err);
}
const claims = tokens.claims();

let userinfo;
try {
  userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
} catch (err) {
  fail('userinfo', err);
}

let refreshed;
try {
  refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  if (!refreshed.refresh_token || refreshed.refresh_token === tokens.refresh_token) throw new Error('refresh token did not rotate');
} catch (err) {
  fail('refresh', err);
}

let afterRevoke = '';
try {
  await client.tokenRevocation(config, refreshed.refresh_token, { token_type_hint: 'refresh_token' });
} catch (err) {
  fail('revocation', err);
}
try {
  await client.refreshTokenGrant(config, refreshed.refresh_token);
  afterRevoke = 'refresh still works';
} catch (err) {
  afterRevoke = err.error ?? String(err);
}

console.log(JSON.stringify({
  iss_param: callback.searchParams.get('iss'),
  sub: claims.sub,
  aud: claims.aud,
  nonce_ok: claims.nonce === nonce,
  email: userinfo.email,
  scope: tokens.scope,
  access_token: refreshed.access_token,
  after_revoke: afterRevoke,
}));

// Drives the published, unmodified @auth0/auth0-spa-js in Chromium against
// orgauth served over https, with only {domain, clientId, authorizationParams:
// {redirect_uri, audience, scope}} (+ useRefreshTokens in one variant), then
// checks the tokens with Auth0's express-oauth2-jwt-bearer:
//
//   node auth0-spa.mjs ISSUER CLIENT_ID AUDIENCE SPA_PORT TLS_DIR M2M_CLIENT_ID
//   (email, password and the M2M client secret on stdin, one per line;
//    NODE_EXTRA_CA_CERTS=TLS_DIR/ca.pem for the bearer check)
//
// The application is served on https://127.0.0.1:SPA_PORT/ with the local
// server certificate. Prints a JSON summary; exits 1 on the first failure.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { auth } from 'express-oauth2-jwt-bearer';

const require = createRequire(import.meta.url);
const [issuer, clientId, audience, spaPort, tlsDir, m2mClientId] = process.argv.slice(2);
let input = '';
for await (const chunk of process.stdin) input += chunk;
const [email, password, m2mSecret] = input.split('\n');
const domain = new URL(issuer).host;
const origin = `https://127.0.0.1:${spaPort}`;
const sdk = readFileSync(require.resolve('@auth0/auth0-spa-js/dist/auth0-spa-js.production.js'));
const out = { console: [] };

function fail(step, err) {
  console.error(`${step} failed: ${err?.error ?? ''} ${err?.message ?? err}\n${JSON.stringify(out, null, 1)}`);
  process.exit(1);
}

// The application: one page that loads the SDK.
const server = createServer({ cert: readFileSync(`${tlsDir}/server.pem`), key: readFileSync(`${tlsDir}/server-key.pem`) }, (req, res) => {
  if (req.url === '/sdk.js') {
    res.writeHead(200, { 'content-type': 'text/javascript' });
    return res.end(sdk);
  }
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<!doctype html><html><head><title>app</title><script src="/sdk.js"></script></head><body>app</body></html>');
});
await new Promise((r) => server.listen(Number(spaPort), '127.0.0.1', r));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const watch = (page) => {
  page.on('console', (m) => out.console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => out.console.push(`pageerror: ${e.message}`));
};
const options = (extra) => ({ domain, clientId, authorizationParams: { redirect_uri: origin + '/', audience, scope: 'openid profile email read:demo' }, ...extra });
// run evaluates fn(auth0 client) in the page with a fresh client of opts.
const run = (page, opts, body) => page.evaluate(async ([o, src]) => {
  const client = new auth0.Auth0Client(o);
  return await (0, eval)(src)(client);
}, [opts, body]);

async function signIn(page) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

try {
  // 1. useRefreshTokens: loginWithRedirect, handleRedirectCallback, the
  //    user, and getTokenSilently twice through refresh-token rotation.
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await ctx.newPage();
  watch(page);
  await page.goto(origin + '/');
  const rt = options({ useRefreshTokens: true });
  await Promise.all([page.waitForURL((u) => u.href.startsWith(issuer.replace(/\/$/, '') + '/authorize')),
    run(page, rt, 'async (c) => { await c.loginWithRedirect(); }')]);
  try {
    await Promise.all([page.waitForURL((u) => u.href.startsWith(origin + '/?')), signIn(page)]);
  } catch (err) {
    fail('login page', new Error(`${err.message}\n${await page.content()}`));
  }
  out.redirect = await run(page, rt, `async (c) => {
    await c.handleRedirectCallback();
    const user = await c.getUser();
    const claims = await c.getIdTokenClaims();
    const a1 = await c.getTokenSilently();
    const a2 = await c.getTokenSilently({ cacheMode: 'off' });
    const a3 = await c.getTokenSilently({ cacheMode: 'off' });
    const orgHint = document.cookie.split('; ').find((c) => c.includes('organization_hint')) ?? '';
    return { authenticated: await c.isAuthenticated(), user, iss: claims.iss, idToken: claims.__raw, a1, a2, a3, orgHint };
  }`).catch((e) => fail('redirect flow', e));

  // 2. Without refresh tokens: the hidden iframe (web_message, prompt=none)
  //    on the session cookie, before and after a reload.
  const iframe = options({});
  // Recorded rather than fatal: the test decides, and reports both.
  out.iframe = await run(page, iframe, `async (c) => ({ token: await c.getTokenSilently(), user: await c.getUser() })`)
    .catch((e) => ({ error: `${e.error ?? ''} ${e.message}` }));
  await page.reload();
  out.reloaded = await run(page, iframe, `async (c) => ({ token: await c.getTokenSilently(), authenticated: await c.isAuthenticated() })`)
    .catch((e) => ({ error: `${e.error ?? ''} ${e.message}` }));

  // 3. logout with returnTo, after which silent authentication fails with
  //    login_required.
  await Promise.all([page.waitForURL(origin + '/'),
    run(page, iframe, `async (c) => { await c.logout({ logoutParams: { returnTo: ${JSON.stringify(origin + '/')} } }); }`)]);
  out.afterLogout = await run(page, iframe, `async (c) => {
    try { await c.getTokenSilently(); return 'no error'; } catch (e) { return e.error; }
  }`);

  // 4. loginWithPopup in a fresh browser profile.
  const ctx2 = await browser.newContext({ ignoreHTTPSErrors: true });
  const page2 = await ctx2.newPage();
  watch(page2);
  await page2.goto(origin + '/');
  ctx2.on('page', async (popup) => {
    watch(popup);
    try {
      await popup.waitForLoadState();
      await signIn(popup);
    } catch (err) {
      out.console.push(`popup: ${err.message}`);
    }
  });
  out.popup = await run(page2, iframe, `async (c) => {
    await c.loginWithPopup();
    return { authenticated: await c.isAuthenticated(), user: await c.getUser(), token: await c.getTokenSilently() };
  }`).catch((e) => fail('popup', e));
} catch (err) {
  fail('browser', err);
} finally {
  await browser.close();
  server.close();
}

// 5. Auth0's Express middleware, pointed at the issuer with its slash:
//    the user's and an M2M access token pass, an ID token does not.
const m2m = await fetch(issuer.replace(/\/$/, '') + '/oauth/token', {
  method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ grant_type: 'client_credentials', client_id: m2mClientId, client_secret: m2mSecret, audience }),
}).then((r) => r.json());
if (!m2m.access_token) fail('m2m token (JSON body)', new Error(JSON.stringify(m2m)));
const check = auth({ issuerBaseURL: issuer, audience });
const bearer = (token) => new Promise((resolve) => {
  const req = { headers: { authorization: `Bearer ${token}`, host: 'api.example.com' }, query: {}, method: 'GET', protocol: 'https',
    url: '/', get: (h) => (h.toLowerCase() === 'host' ? 'api.example.com' : undefined), is: () => false };
  check(req, {}, (err) => resolve(err ? `refused: ${err.status} ${err.code ?? err.message}` : `accepted: ${req.auth.payload.sub}`));
});
out.bearer = {
  m2m: await bearer(m2m.access_token),
  user: await bearer(out.redirect.a3),
  idToken: await bearer(out.redirect.idToken),
};
console.log(JSON.stringify(out));

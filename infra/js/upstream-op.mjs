// A real upstream OpenID provider (npm oidc-provider) for the Go tests: an
// organization's own SSO that orgauth signs users in with, as a relying party.
//
// Reads one JSON document from stdin:
//   {"port":0,
//    "clients":[{"client_id":"…","client_secret":"…","redirect_uris":["…"],
//                "token_endpoint_auth_method":"client_secret_basic"}],  (optional)
//    "accounts":[{"sub":"…","email":"…","email_verified":true,"name":"…"}],
//    "hostile":false}
// With "hostile", it plays a provider that does not honour a relying
// party's re-authentication: it drops prompt and max_age from authorization
// requests (answering from its session), and puts auth_time in every ID
// token, however old. Every token request is reported on stderr
// ("upstream-op: token request"), so tests can tell whether a code reached
// it.
// listens on 127.0.0.1 only (port 0: any free one), with the issuer
// http://127.0.0.1:PORT, and prints exactly one line to stdout once it
// listens: {"issuer":"http://127.0.0.1:PORT"}. Everything else goes to stderr.
// SIGTERM or SIGINT stop it.
//
// Clients are confidential web clients of the code flow (http redirect URIs
// on 127.0.0.1 are fine for them: oidc-provider forbids http and localhost
// only to implicit-flow web clients). A client_secret_basic client may send
// its secret as client_secret_post too, and the other way round. PKCE (S256,
// the only method) is required of every client.
//
// The login and consent pages are oidc-provider's devInteractions: plain
// HTML forms (POST /interaction/:uid with prompt=login&login=SUB, then
// prompt=consent; GET /interaction/:uid/abort refuses), which
// test/testenv/upstream.go drives over HTTP.
import * as crypto from 'node:crypto';
import * as http from 'node:http';

// oidc-provider prints its notices with console.info, on stdout: stdout is
// for the issuer line alone.
console.info = console.log = (...args) => console.error(...args);

const { default: Provider } = await import('oidc-provider');
const { generateKeyPair, exportJWK } = await import('jose');

function fail(msg) {
  console.error(`upstream-op: ${msg}`);
  process.exit(2);
}

let input = '';
for await (const chunk of process.stdin) input += chunk;
let config;
try {
  config = JSON.parse(input);
} catch (err) {
  fail(`bad JSON config on stdin: ${err.message}`);
}
const port = Number(config.port ?? 0);
const clients = (config.clients ?? []).map((c) => ({
  client_id: c.client_id,
  client_secret: c.client_secret,
  redirect_uris: c.redirect_uris,
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: c.token_endpoint_auth_method || 'client_secret_basic',
  require_auth_time: Boolean(config.hostile),
}));
const accounts = new Map((config.accounts ?? []).map((a) => [a.sub, a]));

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: crypto.randomUUID(), alg: 'RS256', use: 'sig' };

let handler = (_req, res) => {
  res.statusCode = 503;
  res.end();
};
const server = http.createServer((req, res) => handler(req, res));
server.on('error', (err) => fail(`listen: ${err.message}`));
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'email', 'profile'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  // By default a code flow's ID token carries only sub and the protocol
  // claims, the scope's claims being left to userinfo; a relying party that
  // reads email from the ID token needs them there.
  conformIdTokenClaims: false,
  responseTypes: ['code'],
  // Only S256 exists in oidc-provider 9; the default requires PKCE of public
  // clients only. Require it of every client, so a relying party that forgets
  // it fails here.
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    // No end-session page or other extras the relying party does not use.
    rpInitiatedLogout: { enabled: false },
  },
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 60,
    IdToken: 3600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  async findAccount(_ctx, sub) {
    const a = accounts.get(sub);
    if (!a) return undefined;
    return {
      accountId: sub,
      async claims() {
        const claims = { sub };
        if (a.email !== undefined) claims.email = a.email;
        if (a.email_verified !== undefined) claims.email_verified = a.email_verified;
        if (a.name !== undefined) claims.name = a.name;
        return claims;
      },
    };
  },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><title>error</title><pre id="error">${JSON.stringify(out).replace(/[<>&]/g, (c) => `&#${c.charCodeAt(0)};`)}</pre>`;
  },
});
provider.on('server_error', (_ctx, err) => console.error('upstream-op server_error:', err));
provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && ctx.path === '/token') console.error('upstream-op: token request');
  if (config.hostile && ctx.path === '/auth') {
    const q = new URLSearchParams(ctx.querystring);
    q.delete('prompt');
    q.delete('max_age');
    ctx.querystring = q.toString();
  }
  await next();
});
handler = provider.callback();

process.stdout.write(`${JSON.stringify({ issuer })}\n`);

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

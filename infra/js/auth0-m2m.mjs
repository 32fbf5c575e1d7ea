// Asks for an M2M token twice with the published, unmodified node-auth0
// (npm auth0), as a client that never caches its token would, and verifies
// each answer with npm jose against the JWKS:
//
//   node auth0-m2m.mjs ISSUER CLIENT_ID AUDIENCE
//   (the client secret on stdin; NODE_EXTRA_CA_CERTS=TLS_DIR/ca.pem, since
//    node-auth0 always calls https://DOMAIN)
//
// Prints {first, second} with each answer's token fields and what jose
// verified; exits 1 on the first failure.
import { AuthenticationClient } from 'auth0';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [issuer, clientId, audience] = process.argv.slice(2);
let clientSecret = '';
for await (const chunk of process.stdin) clientSecret += chunk;
clientSecret = clientSecret.trim();

const auth0 = new AuthenticationClient({ domain: new URL(issuer).host, clientId, clientSecret });
const jwks = createRemoteJWKSet(new URL('.well-known/jwks.json', issuer.endsWith('/') ? issuer : issuer + '/'));
const out = {};

for (const step of ['first', 'second']) {
  try {
    const { data, status } = await auth0.oauth.clientCredentialsGrant({ audience });
    const { payload, protectedHeader } = await jwtVerify(data.access_token, jwks, { issuer, audience, typ: 'at+jwt' });
    out[step] = {
      status,
      access_token: data.access_token,
      token_type: data.token_type,
      expires_in: data.expires_in,
      typ: protectedHeader.typ,
      payload,
    };
  } catch (err) {
    console.error(`${step} token failed: ${err?.code ?? err?.error ?? ''} ${err?.message ?? err}`);
    process.exit(1);
  }
}
console.log(JSON.stringify(out));

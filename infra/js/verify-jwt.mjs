// Verifies an orgauth access token (read from stdin) with npm jose against
// the JWKS: node verify-jwt.mjs JWKS_URL ISSUER AUDIENCE. Prints the
// protected header's typ and the payload as JSON; exits 1 on failure.
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [jwksUrl, issuer, audience] = process.argv.slice(2);
let token = '';
for await (const chunk of process.stdin) token += chunk;

try {
  const jwks = createRemoteJWKSet(new URL(jwksUrl));
  const { payload, protectedHeader } = await jwtVerify(token.trim(), jwks, { issuer, audience, typ: 'at+jwt' });
  console.log(JSON.stringify({ typ: protectedHeader.typ, payload }));
} catch (err) {
  console.error(`verification failed: ${err.code ?? ''} ${err.message}`);
  process.exit(1);
}

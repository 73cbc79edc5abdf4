#!/usr/bin/env node
// Mints a connection token for AuthMode=token: an HS256 JWT { sub, username, iat, exp } signed with the secret the
// authorizer uses (locally: the local cloud's --auth-secret; on AWS: the SecureString in Parameter Store).
//   npm run token -- --username alice --secret "$AUTH_SECRET" --ttl 3600
// With AuthMode=oidc or cognito on the local cloud, it asks the development issuer (tools/local/oidc.ts) for an
// ID token:
//   npm run token -- --username alice --dev-issuer http://127.0.0.1:<port>
// Then connect with  wscat -c "<wss url>?token=<token>".
import { parseArgs } from 'node:util';
// The protocol's limits, defined once in protocol/ (the client package's build, which `npm run token` runs first).
import { LIMITS } from '@roomcast/client';
import { SignJWT } from 'jose';

const HELP = `Usage: npm run token -- --username NAME [--secret S] [--ttl SECONDS]
       npm run token -- --username NAME --dev-issuer URL

  --dev-issuer URL  AuthMode=oidc/cognito on the local cloud: the development issuer \`npm start\` printed; prints
                    the ID token it issues for NAME

  --username NAME   who connects (1-${LIMITS.usernameMaxChars} characters); becomes the token's sub and username claims
  --secret S        HMAC secret (default: the AUTH_SECRET environment variable)
  --ttl SECONDS     lifetime of the token (default 3600)
`;

function fail(message) {
  process.stderr.write(`mint-token: ${message}\n${HELP}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      username: { type: 'string' },
      secret: { type: 'string' },
      ttl: { type: 'string', default: '3600' },
      'dev-issuer': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  fail(error.message);
}
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const username = values.username?.trim();
const secret = values.secret ?? process.env.AUTH_SECRET;
const ttl = Number(values.ttl);
if (!username || [...username].length > LIMITS.usernameMaxChars)
  fail(`--username must be 1-${LIMITS.usernameMaxChars} characters`);
if (values['dev-issuer']) {
  const url = new URL('/dev-oidc/token', values['dev-issuer']);
  url.searchParams.set('username', username);
  const res = await fetch(url).catch((error) => fail(`${url.origin}: ${error.message}`));
  if (!res.ok) fail(`${url.origin} answered ${res.status}`);
  process.stdout.write(`${(await res.json()).id_token}\n`);
  process.exit(0);
}
if (!secret) fail('give --secret or set AUTH_SECRET');
if (!Number.isInteger(ttl) || ttl < 1) fail('--ttl must be a whole number of seconds above 0');
if (Buffer.byteLength(secret) < 32) {
  process.stderr.write('mint-token: warning: a secret shorter than 32 bytes is weak for HS256\n');
}

const now = Math.floor(Date.now() / 1000);
const token = await new SignJWT({ username })
  .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
  .setSubject(username)
  .setIssuedAt(now)
  .setExpirationTime(now + ttl)
  .sign(new TextEncoder().encode(secret));
process.stdout.write(`${token}\n`);

import fc from 'fast-check';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as getMe } from '../../../functions/get-me.js';
import { handler as listTransactions } from '../../../functions/list-transactions.js';
import { handler as refreshToken } from '../../../functions/refresh-token.js';
import { handler as verifyToken } from '../../../functions/verify-token.js';
import { signUp } from '../../support/accounts.js';
import { expectNoAppConnections, resetData } from '../../support/db.js';
import { invoke } from '../../support/events.js';

// JWT attacks: none of these may be accepted as an access token, a refresh token or by verify.

const secret = new TextEncoder().encode(process.env.JWT_SECRET);
const b64 = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

let userId = 0;
let validAccess = '';
let validRefresh = '';

const claims = (type = 'access', extra: Record<string, unknown> = {}) => ({ token_type: type, user_id: userId, jti: 'j', ...extra });

async function attacks(): Promise<Record<string, string>> {
  const rsa = await generateKeyPair('RS256', { extractable: true });
  const publicPem = await exportSPKI(rsa.publicKey);
  const jwk = await exportJWK(rsa.publicKey);
  const [h, p] = validAccess.split('.');
  const forged = { ...JSON.parse(Buffer.from(p!, 'base64url').toString()), user_id: userId + 1_000_000 };
  return {
    'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims(), exp: now() + 300 })}.`,
    'alg None, signature kept': `${b64({ alg: 'None' })}.${p}.${validAccess.split('.')[2]}`,
    'RS256 signed by the attacker': await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256' }).setExpirationTime('5m').sign(rsa.privateKey),
    'HS256 keyed with an RS public key (HS/RS confusion)': await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode(publicPem)),
    'embedded jwk header': await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', jwk }).setExpirationTime('5m').sign(rsa.privateKey),
    'HS256 with the wrong key': await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode('x'.repeat(48))),
    'HS384 with the right key': await new SignJWT(claims()).setProtectedHeader({ alg: 'HS384' }).setExpirationTime('5m').sign(secret),
    expired: await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(now() - 600).setExpirationTime(now() - 300).sign(secret),
    'no exp': await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).sign(secret),
    'not yet valid (nbf)': await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).setNotBefore(now() + 3600).setExpirationTime('2h').sign(secret),
    'token_type missing': await new SignJWT({ user_id: userId }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(secret),
    'token_type "admin"': await new SignJWT(claims('admin')).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(secret),
    'user_id not an integer': await new SignJWT(claims('access', { user_id: "1' OR '1'='1" })).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(secret),
    'user_id a UUID (the former id type)': await new SignJWT(claims('access', { user_id: '00000000-0000-4000-8000-000000000000' })).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(secret),
    'user_id a fraction': await new SignJWT(claims('access', { user_id: userId + 0.5 })).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(secret),
    'payload swapped, signature kept': `${h}.${b64(forged)}.${validAccess.split('.')[2]}`,
    'signature stripped': `${h}.${p}.`,
    'two parts': `${h}.${p}`,
    garbage: 'not.a.jwt',
    empty: '',
  };
}

async function accepted(token: string): Promise<string[]> {
  const out: string[] = [];
  const me = await invoke(getMe, { path: '/api/me/', headers: { authorization: `Bearer ${token}` } });
  if (me.status < 400) out.push('access');
  if (me.status >= 500) out.push('5xx');
  const list = await invoke(listTransactions, { path: '/api/transactions/', headers: { authorization: `Bearer ${token}` } });
  if (list.status < 400) out.push('access (list)');
  const refresh = await invoke(refreshToken, { method: 'POST', path: '/api/token/refresh/', body: { refresh: token } });
  if (refresh.status < 400) out.push('refresh');
  const verify = await invoke(verifyToken, { method: 'POST', path: '/api/token/verify/', body: { token } });
  if (verify.status < 400) out.push('verify');
  if ([refresh, verify, list].some((r) => r.status >= 500)) out.push('5xx');
  return out;
}

describe('JWT attacks', () => {
  let cases: Record<string, string> = {};
  beforeAll(async () => {
    await resetData();
    const user = await signUp('jwt');
    userId = user.id;
    validAccess = user.access;
    validRefresh = user.refresh;
    cases = await attacks();
  });
  afterAll(() => expectNoAppConnections());

  it('accepts the genuine tokens (the harness works)', async () => {
    expect(await accepted(validAccess)).toEqual(['access', 'access (list)', 'verify']);
    expect(await accepted(validRefresh)).toEqual(['refresh', 'verify']);
  });

  it('accepts none of the crafted tokens anywhere', async () => {
    const results: Record<string, string[]> = {};
    for (const [name, token] of Object.entries(cases)) results[name] = await accepted(token);
    expect(results).toEqual(Object.fromEntries(Object.keys(cases).map((k) => [k, []])));
  });

  it('accepts no arbitrary JWT-shaped token (random header, payload, signature)', async () => {
    const json = fc.oneof(
      fc.jsonValue(),
      fc.record({ alg: fc.constantFrom('none', 'HS256', 'RS256', 'ES256', 'HS512', 'PS256', ''), typ: fc.constant('JWT'), kid: fc.string() }, { requiredKeys: ['alg'] }),
      fc.record({ token_type: fc.constantFrom('access', 'refresh', 'x'), user_id: fc.oneof(fc.constant(userId), fc.uuid(), fc.string()), exp: fc.integer(), jti: fc.string() }, { requiredKeys: [] }),
    );
    await fc.assert(
      fc.asyncProperty(json, json, fc.oneof(fc.string(), fc.base64String()), async (header, payload, signature) => {
        const token = `${b64(header ?? null)}.${b64(payload ?? null)}.${Buffer.from(signature).toString('base64url')}`;
        expect(await accepted(token)).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('accepts no arbitrary string as a token', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string().map((s) => `${s}.${s}.${s}`)), async (token) => {
        expect(await accepted(token)).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });
});

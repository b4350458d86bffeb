import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { getConfig } from '../config.js';
import { InvalidToken } from '../errors.js';
import { parseUserId } from '../ids.js';
import { jwtSecret } from './jwt-secret.js';

// SimpleJWT-compatible HS256 tokens: claims token_type, exp, iat, jti, user_id (a JSON number, as
// SimpleJWT writes Django's integer pk). A token issued by the old Django backend with the same
// secret verifies here, and the other way round (tests/integration/simplejwt.test.ts runs the
// real library).

export type TokenType = 'access' | 'refresh';

const ALGORITHM = 'HS256';
let keyCache: { secret: string; key: Uint8Array } | undefined;

async function key(): Promise<Uint8Array> {
  const secret = await jwtSecret();
  if (keyCache?.secret !== secret) keyCache = { secret, key: new TextEncoder().encode(secret) };
  return keyCache.key;
}

export async function signToken(userId: number, type: TokenType, now = Math.floor(Date.now() / 1000)): Promise<string> {
  const { accessTtlSeconds, refreshTtlSeconds } = getConfig().jwt;
  return new SignJWT({ token_type: type, user_id: userId, jti: randomUUID().replaceAll('-', '') })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + (type === 'access' ? accessTtlSeconds : refreshTtlSeconds))
    .sign(await key());
}

export async function issueTokenPair(userId: number): Promise<{ refresh: string; access: string }> {
  const [refresh, access] = await Promise.all([signToken(userId, 'refresh'), signToken(userId, 'access')]);
  return { refresh, access };
}

/** Verifies signature (HS256 only), expiry and token_type; returns the user id. */
export async function verifyToken(token: string, type: TokenType | 'any', detail?: string): Promise<number> {
  return (await verifyTokenClaims(token, type, detail)).userId;
}

export interface TokenClaims {
  userId: number;
  /** iat in whole epoch seconds, for revocation checks; 0 when absent or absurd (then refused once anything was revoked). */
  issuedAt: number;
  /** exp, epoch seconds. */
  expiresAt: number;
  /** The jti SimpleJWT blacklists by; undefined when absent. */
  jti: string | undefined;
}

/** Whole seconds that PostgreSQL's bigint and JavaScript agree on; anything else counts as "long ago". */
const epochSeconds = (value: unknown): number =>
  typeof value === 'number' && Number.isSafeInteger(Math.floor(value)) && value > 0 ? Math.floor(value) : 0;

/** 9999-12-31T23:59:59Z: the latest exp a blacklist row stores (to_timestamp of more raises). */
const MAX_EPOCH = 253_402_300_799;
/** SimpleJWT's jti is 32 hex digits; anything printable up to 255 is kept, the rest is "no id". */
const JTI = /^[\x21-\x7e]{1,255}$/;

/** verifyToken, also giving the claims that revocation and the blacklist need. */
export async function verifyTokenClaims(token: string, type: TokenType | 'any', detail?: string): Promise<TokenClaims> {
  // Outside the try: failing to read the key is a server problem, not a bad token.
  const secret = await key();
  try {
    const { payload } = await jwtVerify(token, secret, { algorithms: [ALGORITHM], requiredClaims: ['exp'] });
    const tokenType = payload.token_type;
    if (type === 'any' ? tokenType !== 'access' && tokenType !== 'refresh' : tokenType !== type) {
      throw new Error('wrong token_type');
    }
    const userId = parseUserId(payload.user_id);
    if (userId === undefined) throw new Error('user_id is not a positive integer');
    const jti = typeof payload.jti === 'string' && JTI.test(payload.jti) ? payload.jti : undefined;
    return { userId, issuedAt: epochSeconds(payload.iat), expiresAt: Math.min(Math.ceil(payload.exp!), MAX_EPOCH), jti };
  } catch (err) {
    throw new InvalidToken(detail, { cause: err });
  }
}

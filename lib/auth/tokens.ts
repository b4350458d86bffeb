import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { getConfig } from '../config.js';
import { InvalidToken } from '../errors.js';
import { parseUserId } from '../ids.js';
import { jwtSecret } from './jwt-secret.js';

// SimpleJWT-compatible HS256 tokens: claims token_type, exp, iat, jti, user_id (a JSON number, as
// SimpleJWT writes Django's integer pk). A token issued by the old Django backend with the same
// secret verifies here, and the other way round (tests/integration/simplejwt.test.ts runs the
// real library).
//
// The jti is a UUIDv7 (RFC 9562) as 32 hex digits, the format of SimpleJWT's uuid4().hex: its
// first 48 bits are the issue time in milliseconds. iat has whole seconds only; with the jti,
// revocation ("log out everywhere", a password change: lib/auth/revoke.ts) tells a token issued
// just before it from one issued just after it in the same second. A token of the old backend
// (a uuid4 jti) counts as issued at the start of its iat's second.

export type TokenType = 'access' | 'refresh';

const ALGORITHM = 'HS256';
let keyCache: { secret: string; key: Uint8Array } | undefined;

async function key(): Promise<Uint8Array> {
  const secret = await jwtSecret();
  if (keyCache?.secret !== secret) keyCache = { secret, key: new TextEncoder().encode(secret) };
  return keyCache.key;
}

/** A UUIDv7 for the instant `ms`, as 32 hex digits. */
function jtiAt(ms: number): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return bytes.toString('hex');
}

const UUID_V7_HEX = /^[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$/;

/** The issue time in epoch ms that a jti of ours carries, if it agrees with iat. */
function issuedMs(jti: string | undefined, iat: number): number | undefined {
  if (jti === undefined || !UUID_V7_HEX.test(jti)) return undefined;
  const ms = parseInt(jti.slice(0, 12), 16);
  return Math.floor(ms / 1000) === iat ? ms : undefined;
}

/** `nowSeconds`: epoch seconds; its fraction gives the jti its milliseconds. */
export async function signToken(userId: number, type: TokenType, nowSeconds = Date.now() / 1000): Promise<string> {
  const { accessTtlSeconds, refreshTtlSeconds } = getConfig().jwt;
  const now = Math.floor(nowSeconds);
  return new SignJWT({ token_type: type, user_id: userId, jti: jtiAt(Math.floor(nowSeconds * 1000)) })
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
  /**
   * When the token was issued, epoch seconds, for revocation checks: to the millisecond for a
   * token of ours (its jti), else iat (the start of its second); 0 when absent or absurd (then
   * refused once anything was revoked).
   */
  issuedAt: number;
  /** exp, epoch seconds. */
  expiresAt: number;
  /** The jti SimpleJWT blacklists by; undefined when absent. */
  jti: string | undefined;
}

/** Whole epoch seconds JavaScript counts exactly; anything else (absent, negative, absurd) counts as "long ago". */
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
    const iat = epochSeconds(payload.iat);
    const ms = issuedMs(jti, iat);
    return { userId, issuedAt: ms === undefined ? iat : ms / 1000, expiresAt: Math.min(Math.ceil(payload.exp!), MAX_EPOCH), jti };
  } catch (err) {
    throw new InvalidToken(detail, { cause: err });
  }
}

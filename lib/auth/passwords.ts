import { pbkdf2, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

// scrypt from node:crypto (no native add-on). Stored as scrypt$N$r$p$salt$hash (base64).
// Users imported from Django keep pbkdf2_sha256$<iterations>$<salt>$<base64 hash> until their
// next login re-hashes them with scrypt (needsRehash).
// Hashing is CPU work: callers do it with no database connection held.

const PARAMS = { N: 16_384, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { ...opts, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** A valid hash of a random password: unknown users cost the same time as wrong passwords. */
let decoy: Promise<string> | undefined;

/** Constant-time check; a malformed stored hash is simply "no match". */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  if (stored === undefined) {
    decoy ??= hashPassword(randomBytes(16).toString('hex'));
    await verifyPassword(password, await decoy);
    return false;
  }
  if (stored.startsWith('pbkdf2_sha256$')) return verifyDjangoPbkdf2(password, stored);
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (expected.length !== KEY_LENGTH || !Object.values(params).every(Number.isSafeInteger)) return false;
  const actual = await derive(password, Buffer.from(salt, 'base64'), params).catch(() => undefined);
  return actual !== undefined && timingSafeEqual(actual, expected);
}

/** A stored hash in a legacy format, to be replaced by scrypt after a successful login. */
export const needsRehash = (stored: string): boolean => !stored.startsWith('scrypt$');

const DJANGO_KEY_LENGTH = 32;
/** Django 5.x uses 870,000-1,000,000; a higher count in imported data is refused, not run. */
const MAX_PBKDF2_ITERATIONS = 5_000_000;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Django's PBKDF2PasswordHasher: base64(PBKDF2-HMAC-SHA256(password, salt, iterations, 32)). */
async function verifyDjangoPbkdf2(password: string, stored: string): Promise<boolean> {
  const [, iterationsText, salt, hash, ...rest] = stored.split('$');
  if (rest.length > 0 || !iterationsText || !salt || !hash || !/^[1-9]\d{0,9}$/.test(iterationsText)) return false;
  const iterations = Number(iterationsText);
  if (iterations > MAX_PBKDF2_ITERATIONS || !BASE64.test(hash)) return false;
  const expected = Buffer.from(hash, 'base64');
  if (expected.length !== DJANGO_KEY_LENGTH) return false;
  const actual = await new Promise<Buffer | undefined>((resolve) =>
    pbkdf2(password, salt, iterations, DJANGO_KEY_LENGTH, 'sha256', (err, key) => resolve(err ? undefined : key)),
  );
  return actual !== undefined && timingSafeEqual(actual, expected);
}

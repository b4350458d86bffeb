import { pbkdf2, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { getConfig } from '../config.js';

// scrypt from node:crypto (no native add-on). Stored as scrypt$N$r$p$salt$hash (base64).
// Users imported from Django keep pbkdf2_sha256$<iterations>$<salt>$<base64 hash> until their
// next login re-hashes them with scrypt (needsRehash).
// Hashing is CPU work: callers do it with no database connection held.
//
// Bounded, equal work. A stored hash's cost parameters come from data (an import, a bad
// UPDATE): a `scrypt$16384$8$4096$…` ran for minutes per try and held libuv's threads, which
// pg's connects need too. Parameters outside SCRYPT_BOUNDS, or pbkdf2 iterations above
// PASSWORD_PBKDF2_ITERATIONS, make a hash unusable (no match) and are refused by the import.
// And every check does the same work, whatever is stored: one scrypt at PARAMS and
// PASSWORD_PBKDF2_ITERATIONS of PBKDF2 — the real hash takes its own leg, a decoy the other —
// so an unknown user, a wrong password, an unusable `!` hash and a Django hash all take the
// same time (tests/integration/handlers/login-timing.test.ts compares medians).

const PARAMS = { N: 16_384, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
/** The widest scrypt parameters accepted in a stored hash (2x the default's cost at most). */
const SCRYPT_BOUNDS = { maxN: 2 ** 17, maxR: 16, maxP: 4, maxCost: 2 * PARAMS.N * PARAMS.r * PARAMS.p } as const;
const MAXMEM = 64 * 1024 * 1024;

function derive(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { ...opts, maxmem: MAXMEM }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

function pbkdf2Sha256(password: string, salt: string | Buffer, iterations: number): Promise<Buffer | undefined> {
  if (iterations <= 0) return Promise.resolve(undefined);
  return new Promise((resolve) =>
    pbkdf2(password, salt, iterations, DJANGO_KEY_LENGTH, 'sha256', (err, key) => resolve(err ? undefined : key)),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64'), key.toString('base64')].join('$');
}

const DJANGO_KEY_LENGTH = 32;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const isPowerOfTwo = (n: number) => n > 1 && (n & (n - 1)) === 0;

type Parsed =
  | { kind: 'scrypt'; params: { N: number; r: number; p: number }; salt: Buffer; expected: Buffer }
  | { kind: 'pbkdf2'; iterations: number; salt: string; expected: Buffer }
  | { kind: 'unusable'; reason: string };

/** Reads a stored hash; anything malformed, unsupported or out of bounds is `unusable`. */
function parseHash(stored: string | undefined, maxIterations: number): Parsed {
  if (stored === undefined) return { kind: 'unusable', reason: 'no user' };
  if (stored.startsWith('pbkdf2_sha256$')) {
    const [, iterationsText, salt, hash, ...rest] = stored.split('$');
    if (rest.length > 0 || !iterationsText || !salt || !hash || !/^[1-9]\d{0,9}$/.test(iterationsText) || !BASE64.test(hash)) {
      return { kind: 'unusable', reason: 'malformed pbkdf2_sha256 hash' };
    }
    const iterations = Number(iterationsText);
    if (iterations > maxIterations) {
      return { kind: 'unusable', reason: `pbkdf2_sha256 with ${iterations} iterations, above PASSWORD_PBKDF2_ITERATIONS (${maxIterations})` };
    }
    const expected = Buffer.from(hash, 'base64');
    if (expected.length !== DJANGO_KEY_LENGTH) return { kind: 'unusable', reason: 'malformed pbkdf2_sha256 hash' };
    return { kind: 'pbkdf2', iterations, salt, expected };
  }
  const [scheme, n, r, p, salt, hash, ...rest] = stored.split('$');
  if (scheme !== 'scrypt') return { kind: 'unusable', reason: 'unsupported or unusable hash' };
  if (rest.length > 0 || !salt || !hash || ![n, r, p].every((v) => v !== undefined && /^[1-9]\d{0,9}$/.test(v))) {
    return { kind: 'unusable', reason: 'malformed scrypt hash' };
  }
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  const { maxN, maxR, maxP, maxCost } = SCRYPT_BOUNDS;
  if (!isPowerOfTwo(params.N) || params.N > maxN || params.r > maxR || params.p > maxP || params.N * params.r * params.p > maxCost) {
    return { kind: 'unusable', reason: `scrypt parameters N=${n} r=${r} p=${p} outside the accepted bounds` };
  }
  const expected = Buffer.from(hash, 'base64');
  if (expected.length !== KEY_LENGTH) return { kind: 'unusable', reason: 'malformed scrypt hash' };
  return { kind: 'scrypt', params, salt: Buffer.from(salt, 'base64'), expected };
}

/**
 * Why a stored hash would be refused for its cost (scrypt parameters or pbkdf2 iterations out of
 * bounds), or undefined. Other unusable hashes (Django's `!`, other hashers) are accepted by the
 * import as they are: they cost nothing and simply never match.
 */
export function passwordWorkProblem(stored: string, maxIterations = getConfig().passwords.pbkdf2Iterations): string | undefined {
  const parsed = parseHash(stored, maxIterations);
  return parsed.kind === 'unusable' && /above|outside/.test(parsed.reason) ? parsed.reason : undefined;
}

/**
 * Constant-time check with constant work; a malformed, unusable or out-of-bounds stored hash
 * (or none: an unknown user) is simply "no match", after the same work as a real check.
 */
export async function verifyPassword(
  password: string,
  stored: string | undefined,
  pbkdf2Iterations = getConfig().passwords.pbkdf2Iterations,
): Promise<boolean> {
  const parsed = parseHash(stored, pbkdf2Iterations);
  const scryptLeg = async () => {
    if (parsed.kind !== 'scrypt') {
      await derive(password, randomBytes(16), PARAMS);
      return false;
    }
    const actual = await derive(password, parsed.salt, parsed.params).catch(() => undefined);
    return actual !== undefined && timingSafeEqual(actual, parsed.expected);
  };
  const pbkdf2Leg = async () => {
    if (parsed.kind !== 'pbkdf2') {
      await pbkdf2Sha256(password, randomBytes(16), pbkdf2Iterations);
      return false;
    }
    const actual = await pbkdf2Sha256(password, parsed.salt, parsed.iterations);
    // Pads an older, cheaper hash up to the same total work.
    await pbkdf2Sha256(password, randomBytes(16), pbkdf2Iterations - parsed.iterations);
    return actual !== undefined && timingSafeEqual(actual, parsed.expected);
  };
  const [scryptOk, pbkdf2Ok] = await Promise.all([scryptLeg(), pbkdf2Leg()]);
  return scryptOk || pbkdf2Ok;
}

/** A stored hash in a legacy format or with other scrypt parameters, replaced after a successful login. */
export const needsRehash = (stored: string): boolean => !stored.startsWith(`scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$`);

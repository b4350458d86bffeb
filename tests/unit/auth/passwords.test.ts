import { describe, expect, it } from 'vitest';
import { hashPassword, needsRehash, passwordWorkProblem, verifyPassword } from '../../../lib/auth/passwords.js';

describe('hashPassword', () => {
  it('stores scrypt parameters, salt and hash, never the password', async () => {
    const stored = await hashPassword('correct horse');
    expect(stored).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/);
    expect(stored).not.toContain('correct horse');
  });

  it('salts each hash, so the same password hashes differently', async () => {
    expect(await hashPassword('same')).not.toBe(await hashPassword('same'));
  });
});

describe('verifyPassword', () => {
  it('accepts the password that was hashed', async () => {
    expect(await verifyPassword('correct horse', await hashPassword('correct horse'))).toBe(true);
  });

  it('rejects a wrong password', async () => {
    expect(await verifyPassword('wrong horse', await hashPassword('correct horse'))).toBe(false);
  });

  it('treats Unicode-equivalent spellings as the same password (NFKC)', async () => {
    const composed = 'caf\u00e9';
    const decomposed = 'cafe\u0301';
    expect(await verifyPassword(decomposed, await hashPassword(composed))).toBe(true);
  });

  it('returns false for an unknown user (no stored hash) instead of throwing', async () => {
    expect(await verifyPassword('anything', undefined)).toBe(false);
  });

  it.each([
    ['an empty string', ''],
    ['another scheme', 'pbkdf2_sha256$600000$salt$hash'],
    ['missing parts', 'scrypt$16384$8$1'],
    ['non-numeric parameters', `scrypt$abc$8$1$c2FsdA==$${Buffer.alloc(32).toString('base64')}`],
    ['a hash of the wrong length', 'scrypt$16384$8$1$c2FsdA==$c2hvcnQ='],
    ['an N that is not a power of two', `scrypt$1000$8$1$c2FsdA==$${Buffer.alloc(32).toString('base64')}`],
    ['parameters beyond the memory limit', `scrypt$1048576$64$1$c2FsdA==$${Buffer.alloc(32).toString('base64')}`],
  ])('returns false for a malformed stored hash (%s) without throwing', async (_, stored) => {
    await expect(verifyPassword('anything', stored)).resolves.toBe(false);
  });
});

// Vectors computed with Python's hashlib.pbkdf2_hmac, as Django's PBKDF2PasswordHasher does.
const DJANGO = 'pbkdf2_sha256$1000$seasalt$JgZryXe2Ga8ysg6XbzkLpTdyPQrHqsinbL9BnnhgX4A=';
const DJANGO_260K = 'pbkdf2_sha256$260000$Xb3lDJQHc6mR$Fdy6rYHb/oiqnU6bzF88UZ1gKQsuJhd5AnQKBuQZVtg=';

describe('verifyPassword with a Django pbkdf2_sha256 hash', () => {
  it('accepts the right password, unicode included', async () => {
    expect(await verifyPassword('lètmein', DJANGO)).toBe(true);
    expect(await verifyPassword('correct-horse-battery', DJANGO_260K)).toBe(true);
  });

  it('refuses a wrong password', async () => {
    expect(await verifyPassword('letmein', DJANGO)).toBe(false);
  });

  it.each([
    'pbkdf2_sha256$',
    'pbkdf2_sha256$abc$seasalt$JgZryXe2Ga8ysg6XbzkLpTdyPQrHqsinbL9BnnhgX4A=',
    'pbkdf2_sha256$0$seasalt$JgZryXe2Ga8ysg6XbzkLpTdyPQrHqsinbL9BnnhgX4A=',
    'pbkdf2_sha256$-5$seasalt$JgZryXe2Ga8ysg6XbzkLpTdyPQrHqsinbL9BnnhgX4A=',
    'pbkdf2_sha256$99999999999$seasalt$JgZryXe2Ga8ysg6XbzkLpTdyPQrHqsinbL9BnnhgX4A=',
    'pbkdf2_sha256$1000$$JgZryXe2Ga8ysg6XbzkLpTdyPQrHqsinbL9BnnhgX4A=',
    'pbkdf2_sha256$1000$seasalt$',
    'pbkdf2_sha256$1000$seasalt$not base64!',
    'pbkdf2_sha256$1000$seasalt$c2hvcnQ=',
    'pbkdf2_sha256$1000$seasalt$JgZryXe2Ga8ysg6XbzkLpTdyPQrHqsinbL9BnnhgX4A=$extra',
    'pbkdf2_sha1$1000$seasalt$JgZryXe2Ga8ysg6XbzkLpTdyPQrHqsinbL9BnnhgX4A=',
    '!unusable-django-password',
  ])('treats the malformed or unsupported hash %j as no match, without throwing', async (stored) => {
    await expect(verifyPassword('lètmein', stored)).resolves.toBe(false);
  });
});

describe('needsRehash', () => {
  it('is true for legacy hashes only', async () => {
    expect(needsRehash(DJANGO)).toBe(true);
    expect(needsRehash(await hashPassword('x'))).toBe(false);
  });
});

describe('bounded work', () => {
  const key = Buffer.alloc(32).toString('base64');

  it.each([
    ['p = 4096 (minutes per try before the bound)', `scrypt$16384$8$4096$c2FsdA==$${key}`],
    ['N = 2^20', `scrypt$1048576$8$1$c2FsdA==$${key}`],
    ['r = 64', `scrypt$16384$64$1$c2FsdA==$${key}`],
    ['N·r·p above twice the default cost', `scrypt$131072$8$1$c2FsdA==$${key}`],
  ])('treats scrypt with %s as unusable, after only the usual work', async (_name, stored) => {
    const started = performance.now();
    await expect(verifyPassword('anything', stored, 1_000)).resolves.toBe(false);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(passwordWorkProblem(stored, 1_000)).toMatch(/outside the accepted bounds/);
  });

  it('treats pbkdf2 iterations above the configured cap as unusable, and the import refuses them', async () => {
    const stored = 'pbkdf2_sha256$260000$Xb3lDJQHc6mR$Fdy6rYHb/oiqnU6bzF88UZ1gKQsuJhd5AnQKBuQZVtg=';
    await expect(verifyPassword('correct-horse-battery', stored, 100_000)).resolves.toBe(false);
    expect(passwordWorkProblem(stored, 100_000)).toBe('pbkdf2_sha256 with 260000 iterations, above PASSWORD_PBKDF2_ITERATIONS (100000)');
    expect(passwordWorkProblem(stored, 260_000)).toBeUndefined();
  });

  it('finds nothing to refuse in ordinary, unusable or unsupported hashes', async () => {
    expect(passwordWorkProblem(await hashPassword('x'), 1_000)).toBeUndefined();
    expect(passwordWorkProblem('!unusable', 1_000)).toBeUndefined();
    expect(passwordWorkProblem('argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA', 1_000)).toBeUndefined();
  });

  it('re-hashes scrypt hashes with other parameters as well as Django ones', () => {
    expect(needsRehash(`scrypt$16384$8$1$c2FsdA==$${key}`)).toBe(false);
    expect(needsRehash(`scrypt$8192$8$1$c2FsdA==$${key}`)).toBe(true);
  });
});

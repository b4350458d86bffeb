import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../../lib/auth/passwords.js';

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

import { randomUUID } from 'node:crypto';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { issueTokenPair, signToken, verifyToken, verifyTokenClaims } from '../../../lib/auth/tokens.js';
import { InvalidToken } from '../../../lib/errors.js';

// The secret tests/support/env.ts puts in the environment before lib/config.ts reads it.
const SECRET = new TextEncoder().encode('test-secret-that-is-at-least-32-characters-long');
const NOW = new Date('2026-03-01T12:00:00Z');
const nowSeconds = () => Math.floor(Date.now() / 1000);

const b64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token signed with the shared secret, as the old Django backend (SimpleJWT) would issue it. */
function foreignToken(claims: Record<string, unknown>, alg = 'HS256', key: Uint8Array = SECRET) {
  const now = nowSeconds();
  return new SignJWT({ token_type: 'access', user_id: 7, jti: 'abc', ...claims })
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(key);
}

describe('tokens', () => {
  const userId = 42;

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  describe('signToken', () => {
    it('carries SimpleJWT’s claims: token_type, exp, iat, jti and user_id', async () => {
      const claims = decodeJwt(await signToken(userId, 'access'));
      expect(claims).toEqual({
        token_type: 'access',
        user_id: 42,
        jti: expect.stringMatching(/^[0-9a-f]{32}$/),
        iat: nowSeconds(),
        exp: nowSeconds() + 300,
      });
    });

    it('signs with HS256 and typ JWT', async () => {
      expect(decodeProtectedHeader(await signToken(userId, 'access'))).toEqual({ alg: 'HS256', typ: 'JWT' });
    });

    it('gives refresh tokens the refresh lifetime', async () => {
      const claims = decodeJwt(await signToken(userId, 'refresh'));
      expect(claims.token_type).toBe('refresh');
      expect(claims.exp).toBe(nowSeconds() + 86_400);
    });

    it('makes the jti a UUIDv7 (32 hex digits, like SimpleJWT’s) holding the issue time to the millisecond', async () => {
      vi.setSystemTime(NOW.getTime() + 789);
      const { jti, iat } = decodeJwt(await signToken(userId, 'access'));
      expect(jti).toMatch(/^[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
      expect(parseInt(jti!.slice(0, 12), 16)).toBe(NOW.getTime() + 789);
      expect(iat).toBe(NOW.getTime() / 1000);
    });

    it('gives every token its own jti', async () => {
      const [a, b] = await Promise.all([signToken(userId, 'access'), signToken(userId, 'access')]);
      expect(decodeJwt(a).jti).not.toBe(decodeJwt(b).jti);
    });
  });

  describe('verifyToken', () => {
    it('returns the user id of a valid access token', async () => {
      await expect(verifyToken(await signToken(userId, 'access'), 'access')).resolves.toBe(userId);
    });

    it('refuses a refresh token where an access token is expected', async () => {
      await expect(verifyToken(await signToken(userId, 'refresh'), 'access')).rejects.toBeInstanceOf(InvalidToken);
    });

    it('refuses an access token where a refresh token is expected', async () => {
      await expect(verifyToken(await signToken(userId, 'access'), 'refresh')).rejects.toBeInstanceOf(InvalidToken);
    });

    it('accepts either type when asked for any', async () => {
      await expect(verifyToken(await signToken(userId, 'access'), 'any')).resolves.toBe(userId);
      await expect(verifyToken(await signToken(userId, 'refresh'), 'any')).resolves.toBe(userId);
    });

    it('refuses an unknown token_type even when asked for any', async () => {
      await expect(verifyToken(await foreignToken({ token_type: 'sliding' }), 'any')).rejects.toBeInstanceOf(InvalidToken);
    });

    it('accepts a token until its expiry and refuses it from then on', async () => {
      const token = await signToken(userId, 'access');
      vi.setSystemTime(NOW.getTime() + 299_000);
      await expect(verifyToken(token, 'access')).resolves.toBe(userId);
      vi.setSystemTime(NOW.getTime() + 300_000);
      await expect(verifyToken(token, 'access')).rejects.toBeInstanceOf(InvalidToken);
    });

    it('refuses a token whose signature was tampered with', async () => {
      const [header, payload, signature] = (await signToken(userId, 'access')).split('.');
      const flipped = `${signature!.startsWith('A') ? 'B' : 'A'}${signature!.slice(1)}`;
      await expect(verifyToken(`${header}.${payload}.${flipped}`, 'access')).rejects.toBeInstanceOf(InvalidToken);
    });

    it('refuses a token whose payload was changed to another user', async () => {
      const [header, , signature] = (await signToken(userId, 'access')).split('.');
      const forged = b64url({ ...decodeJwt(await signToken(userId, 'access')), user_id: userId + 1 });
      await expect(verifyToken(`${header}.${forged}.${signature}`, 'access')).rejects.toBeInstanceOf(InvalidToken);
    });

    it('refuses an unsigned alg "none" token', async () => {
      const payload = b64url({ token_type: 'access', user_id: userId, jti: 'x', iat: nowSeconds(), exp: nowSeconds() + 300 });
      const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${payload}.`;
      await expect(verifyToken(token, 'access')).rejects.toBeInstanceOf(InvalidToken);
    });

    it('refuses a token signed with the same secret but HS512 (the algorithm is pinned)', async () => {
      const token = await foreignToken({ user_id: userId }, 'HS512');
      await expect(verifyToken(token, 'access')).rejects.toBeInstanceOf(InvalidToken);
    });

    it('refuses a token signed with another secret', async () => {
      const other = new TextEncoder().encode('another-secret-that-is-also-32-characters-long');
      await expect(verifyToken(await foreignToken({ user_id: userId }, 'HS256', other), 'access')).rejects.toBeInstanceOf(
        InvalidToken,
      );
    });

    it.each([[0], [-1], [1.5], ['042'], ['4e2'], [' 42'], [2 ** 53], ['9007199254740993'], [randomUUID()], [null], [true]])(
      'refuses a token whose user_id is %j',
      async (id) => {
        await expect(verifyToken(await foreignToken({ user_id: id }), 'access')).rejects.toBeInstanceOf(InvalidToken);
      },
    );

    it('refuses a token without exp', async () => {
      const token = await new SignJWT({ token_type: 'access', user_id: userId })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .sign(SECRET);
      await expect(verifyToken(token, 'access')).rejects.toBeInstanceOf(InvalidToken);
    });

    it('accepts a SimpleJWT token from the old backend signed with the shared secret', async () => {
      await expect(verifyToken(await foreignToken({ user_id: userId }), 'access')).resolves.toBe(userId);
    });

    it('accepts the user id as a numeric string too (a CharField USER_ID_FIELD)', async () => {
      await expect(verifyToken(await foreignToken({ user_id: String(userId) }), 'access')).resolves.toBe(userId);
    });

    it.each(['', 'garbage', 'a.b.c'])('refuses the non-token %j', async (token) => {
      await expect(verifyToken(token, 'access')).rejects.toBeInstanceOf(InvalidToken);
    });

    it('uses SimpleJWT’s detail and code, and keeps the reason as the cause', async () => {
      const err = await verifyToken(await signToken(userId, 'refresh'), 'access').then(
        () => expect.unreachable('the refresh token was accepted as access'),
        (e: unknown) => e as InvalidToken,
      );
      expect(err.body()).toEqual({ detail: 'Given token not valid for any token type', code: 'token_not_valid' });
      expect(err.status).toBe(401);
      expect(err.cause).toBeInstanceOf(Error);
    });

    it('uses the detail it is given', async () => {
      await expect(verifyToken('garbage', 'refresh', 'Token is invalid or expired')).rejects.toMatchObject({
        detail: 'Token is invalid or expired',
      });
    });
  });

  describe('issueTokenPair', () => {
    it('returns a refresh and an access token for the user', async () => {
      const { refresh, access } = await issueTokenPair(userId);
      await expect(verifyToken(refresh, 'refresh')).resolves.toBe(userId);
      await expect(verifyToken(access, 'access')).resolves.toBe(userId);
    });
  });

  describe('verifyTokenClaims', () => {
    it('also gives the token’s iat, exp and jti (revocation and the blacklist check them)', async () => {
      const refresh = await signToken(userId, 'refresh');
      const claims = decodeJwt(refresh);
      await expect(verifyTokenClaims(refresh, 'refresh')).resolves.toEqual({
        userId,
        issuedAt: Date.now() / 1000,
        expiresAt: claims.exp,
        jti: claims.jti,
      });
    });

    it('takes the issue time to the millisecond from a UUIDv7 jti that agrees with iat, else the start of iat’s second', async () => {
      vi.setSystemTime(NOW.getTime() + 456);
      const ours = await signToken(userId, 'access');
      await expect(verifyTokenClaims(ours, 'access')).resolves.toMatchObject({ issuedAt: (NOW.getTime() + 456) / 1000 });
      // SimpleJWT's uuid4().hex, and a v7 jti from another second: iat decides.
      const old = await foreignToken({ jti: 'a1b2c3d4e5f64a7b8c9d0e1f2a3b4c5d' });
      await expect(verifyTokenClaims(old, 'access')).resolves.toMatchObject({ issuedAt: nowSeconds() });
      const otherSecond = await foreignToken({ jti: `${(NOW.getTime() - 5000).toString(16).padStart(12, '0')}7abc8abcdefabcdefabc` });
      await expect(verifyTokenClaims(otherSecond, 'access')).resolves.toMatchObject({ issuedAt: nowSeconds() });
    });

    it('counts an iat it cannot compare (absent, fractional, absurd) conservatively, and a bad jti as none', async () => {
      const claimsOf = async (extra: Record<string, unknown>) => {
        const claims = { token_type: 'access', user_id: 7, jti: 'abc', iat: nowSeconds(), exp: nowSeconds() + 300, ...extra };
        return verifyTokenClaims(await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(SECRET), 'access');
      };
      await expect(claimsOf({ iat: 1_764_000_000.7 })).resolves.toMatchObject({ issuedAt: 1_764_000_000 });
      await expect(claimsOf({ iat: 1e300 })).resolves.toMatchObject({ issuedAt: 0 });
      await expect(claimsOf({ iat: -5 })).resolves.toMatchObject({ issuedAt: 0 });
      await expect(claimsOf({ jti: 'has space' })).resolves.toMatchObject({ jti: undefined });
      await expect(claimsOf({ exp: 1e300 })).resolves.toMatchObject({ expiresAt: 253_402_300_799 });
    });
  });
});

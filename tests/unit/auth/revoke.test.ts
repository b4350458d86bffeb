import { describe, expect, it } from 'vitest';
import { revocationInstant } from '../../../lib/auth/revoke.js';

describe('revocationInstant', () => {
  it('is now to the millisecond, as the jti of a token records its issue (lib/auth/tokens.ts)', () => {
    expect(revocationInstant(1_764_000_000_123)).toBe(1_764_000_000.123);
  });
});

import { describe, expect, it } from 'vitest';
import { revocationInstant } from '../../../lib/auth/revoke.js';

describe('revocationInstant', () => {
  it('is the next whole second, so a token issued earlier in the same second (same iat) is refused', () => {
    expect(revocationInstant(1_764_000_000_000)).toBe(1_764_000_001);
    expect(revocationInstant(1_764_000_000_999)).toBe(1_764_000_001);
    // A token whose iat is the instant itself (signed once that second has begun) is accepted.
    expect(Math.floor(1_764_000_001_000 / 1000)).toBe(revocationInstant(1_764_000_000_500));
  });
});

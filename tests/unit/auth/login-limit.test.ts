import { describe, expect, it } from 'vitest';
import { loginKeys, sourceKey } from '../../../lib/auth/login-limit.js';

describe('sourceKey', () => {
  it.each([
    ['203.0.113.5', '203.0.113.5'],
    ['::ffff:203.0.113.5', '203.0.113.5'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff:1:2:3', '2001:db8:1:2::/64'],
    ['2001:DB8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1:2:3:4', 'fe80:0:0:0::/64'],
    [undefined, 'unknown'],
  ])('counts %s as %s', (ip, key) => {
    expect(sourceKey(ip)).toBe(key);
  });
});

describe('loginKeys', () => {
  it('keys the pair, the source and the username apart (a username may hold spaces; a source never does)', () => {
    expect(loginKeys('203.0.113.5', 'a b')).toEqual({ pair: 'pair:203.0.113.5 a b', source: 'source:203.0.113.5', user: 'user:a b' });
  });
});

import { describe, expect, it } from 'vitest';
import { newPassword, refreshBody, registerBody, tokenBody, username, verifyBody } from '../../../lib/auth/schemas.js';
import { fieldErrors } from '../../../lib/validation.js';
import type { z } from 'zod';

const INVALID_USERNAME =
  'Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.';
const TOO_SHORT = 'This password is too short. It must contain at least 8 characters.';
const NUMERIC = 'This password is entirely numeric.';

const messages = (schema: z.ZodType, input: unknown) => schema.safeParse(input).error?.issues.map((i) => i.message);

function errors(schema: z.ZodType, input: unknown) {
  const result = schema.safeParse(input);
  expect(result.success, 'expected the input to be rejected').toBe(false);
  return fieldErrors(result.error!);
}

describe('username', () => {
  it.each(['alice', 'a@b.c+d-e_f', 'Zoë', '用户', 'u'.repeat(150), '42'])('accepts %j', (name) => {
    expect(username().parse(name)).toBe(name);
  });

  it.each(['with space', ' alice', 'tab\there', 'semi;colon', 'slash/name', 'emoji🙂'])('rejects %j', (name) => {
    expect(messages(username(), name)).toEqual([INVALID_USERNAME]);
  });

  it('normalises to NFKC first, as Django’s normalize_username does', () => {
    expect(username().parse('\uff41dmin')).toBe('admin');
    expect(username().parse('\ufb01sh')).toBe('fish');
    expect(registerBody.parse({ username: '\uff41dmin', password: 'abcd1234' }).username).toBe('admin');
    expect(tokenBody.parse({ username: '\uff41dmin', password: 'x' }).username).toBe('admin');
  });

  it('rejects 151 characters', () => {
    expect(messages(username(), 'u'.repeat(151))).toEqual(['Ensure this field has no more than 150 characters.']);
  });

  it('says only that a long name is too long: the pattern never reads it', () => {
    expect(messages(username(), 'a b'.repeat(20_000))).toEqual(['Ensure this field has no more than 150 characters.']);
    // Not expanded 18-fold by NFKC first.
    expect(messages(username(), '\ufdfa'.repeat(20_000))).toEqual(['Ensure this field has no more than 150 characters.']);
  });

  it('still normalises a name that NFKC shortens to 150 characters', () => {
    // 150 "e" + combining acute (300 code units) compose to 150 "é".
    expect(username().parse('e\u0301'.repeat(150))).toBe('\u00e9'.repeat(150));
  });

  it('rejects a blank username', () => {
    expect(messages(username(), '')).toContain('This field may not be blank.');
  });
});

describe('newPassword', () => {
  it('accepts 8 characters that are not all digits', () => {
    expect(newPassword().parse('abcd1234')).toBe('abcd1234');
  });

  it('rejects 7 characters with Django’s message', () => {
    expect(messages(newPassword(), 'abc1234')).toEqual([TOO_SHORT]);
  });

  it('rejects an all-digit password with Django’s message', () => {
    expect(messages(newPassword(), '1234567890')).toEqual([NUMERIC]);
  });

  it('gives both messages for a short all-digit password, as Django does', () => {
    expect(messages(newPassword(), '1234567')).toEqual([TOO_SHORT, NUMERIC]);
  });

  it('rejects a blank password', () => {
    expect(messages(newPassword(), '')).toContain('This field may not be blank.');
  });

  it('rejects more than 4096 characters', () => {
    expect(messages(newPassword(), 'p'.repeat(4097))).toEqual(['Ensure this field has no more than 4096 characters.']);
  });
});

describe('registerBody', () => {
  const valid = { username: 'alice', password: 'correct horse' };

  it('defaults a missing email to ""', () => {
    expect(registerBody.parse(valid)).toEqual({ ...valid, email: '' });
  });

  it('accepts a blank email', () => {
    expect(registerBody.parse({ ...valid, email: '' }).email).toBe('');
  });

  it('accepts a valid email as given', () => {
    expect(registerBody.parse({ ...valid, email: 'Alice@Example.com' }).email).toBe('Alice@Example.com');
  });

  it.each(['not-an-email', 'a@', '@b.com', 'a b@c.com'])('rejects the email %j', (email) => {
    expect(errors(registerBody, { ...valid, email })).toEqual({ email: ['Enter a valid email address.'] });
  });

  it('rejects a null email', () => {
    expect(errors(registerBody, { ...valid, email: null })).toEqual({ email: ['This field may not be null.'] });
  });

  it('rejects an email longer than 254 characters', () => {
    const email = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com`;
    expect(email.length).toBeGreaterThan(254);
    expect(errors(registerBody, { ...valid, email }).email).toBeDefined();
  });

  it('requires username and password', () => {
    expect(errors(registerBody, {})).toEqual({
      username: ['This field is required.'],
      password: ['This field is required.'],
    });
  });

  it('reports an unknown field', () => {
    expect(errors(registerBody, { ...valid, is_staff: true })).toEqual({ is_staff: ['Unknown field.'] });
  });
});

describe('tokenBody', () => {
  it('accepts any non-blank password, so login does not reveal the rules', () => {
    expect(tokenBody.parse({ username: 'alice', password: '1' })).toEqual({ username: 'alice', password: '1' });
  });

  it('requires username and password', () => {
    expect(errors(tokenBody, { username: '', password: '' })).toEqual({
      username: ['This field may not be blank.'],
      password: ['This field may not be blank.'],
    });
  });
});

describe('refreshBody and verifyBody', () => {
  it('require a non-blank token string', () => {
    expect(errors(refreshBody, {})).toEqual({ refresh: ['This field is required.'] });
    expect(errors(verifyBody, { token: '' })).toEqual({ token: ['This field may not be blank.'] });
    expect(errors(verifyBody, { token: 5 })).toEqual({ token: ['Not a valid string.'] });
  });
});

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ValidationError } from '../../lib/errors.js';
import { isCalendarDate } from '../../lib/dates.js';
import { choice, dateString, fieldErrors, object, parse, text } from '../../lib/validation.js';

describe('isCalendarDate', () => {
  it.each(['2024-02-29', '2026-01-31', '2026-12-31', '9999-12-31'])('accepts the real date %s', (value) => {
    expect(isCalendarDate(value)).toBe(true);
  });

  it.each(['2026-02-30', '2023-02-29', '2026-04-31', '2026-13-01', '2026-00-10', '2026-01-00', '0000-01-01'])(
    'rejects the impossible date %s',
    (value) => {
      expect(isCalendarDate(value)).toBe(false);
    },
  );

  it.each(['yesterday', '', '2026-1-5', '26-01-05', '2026/01/05', '2026-01-05T00:00:00Z', ' 2026-01-05', '20260105'])(
    'rejects %j, which is not YYYY-MM-DD',
    (value) => {
      expect(isCalendarDate(value)).toBe(false);
    },
  );
});

describe('dateString', () => {
  const WRONG = 'Date has wrong format. Use one of these formats instead: YYYY-MM-DD.';

  it.each([['2026-02-30'], ['yesterday'], [20260105]])('rejects %j with DRF’s message', (value) => {
    expect(dateString().safeParse(value).error?.issues[0]?.message).toBe(WRONG);
  });

  it('keeps a valid date as the same string', () => {
    expect(dateString().parse('2024-02-29')).toBe('2024-02-29');
  });
});

describe('text and choice', () => {
  it('says how long a string may be', () => {
    expect(text(3).safeParse('abcd').error?.issues[0]?.message).toBe('Ensure this field has no more than 3 characters.');
  });

  it('says a non-string is not a valid string', () => {
    expect(text(3).safeParse(12).error?.issues[0]?.message).toBe('Not a valid string.');
  });

  it('quotes an invalid choice', () => {
    expect(choice(['a', 'b']).safeParse('c').error?.issues[0]?.message).toBe('"c" is not a valid choice.');
  });
});

describe('fieldErrors and parse', () => {
  const schema = object({ name: text(10), kind: choice(['x', 'y']) }, ['id']);

  function errorsFor(input: unknown) {
    try {
      parse(schema, input);
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      return (err as ValidationError).fields;
    }
    throw new Error('expected a ValidationError');
  }

  it('returns the parsed value when the input is valid', () => {
    expect(parse(schema, { name: 'n', kind: 'x' })).toEqual({ name: 'n', kind: 'x' });
  });

  it('reports each missing field as required', () => {
    expect(errorsFor({})).toEqual({ name: ['This field is required.'], kind: ['This field is required.'] });
  });

  it('reports null as "may not be null"', () => {
    expect(errorsFor({ name: null, kind: 'x' })).toEqual({ name: ['This field may not be null.'] });
  });

  it('reports each unknown key as "Unknown field."', () => {
    expect(errorsFor({ name: 'n', kind: 'x', colour: 'red', size: 2 })).toEqual({
      colour: ['Unknown field.'],
      size: ['Unknown field.'],
    });
  });

  it('drops ignored (read-only) keys instead of reporting them', () => {
    expect(parse(schema, { id: 7, name: 'n', kind: 'x' })).toEqual({ name: 'n', kind: 'x' });
  });

  it.each([
    [[], 'list'],
    [[{ name: 'n' }], 'list'],
    ['text', 'str'],
    [5, 'int'],
    [1.5, 'float'],
    [true, 'bool'],
    [null, 'null'],
  ])('reports the body %j as non_field_errors naming its type (%s)', (input, type) => {
    expect(errorsFor(input)).toEqual({
      non_field_errors: [`Invalid data. Expected a dictionary, but got ${type}.`],
    });
  });

  it('keys a nested issue by its top-level field', () => {
    const nested = z.object({ outer: z.object({ inner: z.string({ error: 'bad' }) }) });
    const result = nested.safeParse({ outer: { inner: 1 } });
    expect(fieldErrors(result.error!)).toEqual({ outer: ['bad'] });
  });

  it('does not repeat the same message for a field', () => {
    const twice = z.object({ a: z.string().refine(() => false, 'no').refine(() => false, 'no') });
    expect(fieldErrors(twice.safeParse({ a: 'x' }).error!)).toEqual({ a: ['no'] });
  });

  it('carries the field map as a 400 ValidationError body', () => {
    const err = (() => {
      try {
        parse(schema, {});
      } catch (e) {
        return e as ValidationError;
      }
    })();
    expect(err?.status).toBe(400);
    expect(err?.body()).toEqual({ name: ['This field is required.'], kind: ['This field is required.'] });
  });
});

describe('isCalendarDate for early years', () => {
  it.each(['0001-01-01', '0099-12-31', '0004-02-29'])('accepts %s, as PostgreSQL does', (date) => {
    expect(isCalendarDate(date)).toBe(true);
  });
});

describe('field errors for keys named like Object.prototype members', () => {
  it('reports "toString", "constructor" and "__proto__" as unknown fields instead of crashing', () => {
    const schema = object({ name: text(10) });
    for (const key of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      let caught: unknown;
      try {
        parse(schema, JSON.parse(`{"name":"x","${key}":null}`));
      } catch (err) {
        caught = err;
      }
      expect((caught as { fields: Record<string, string[]> }).fields[key]).toEqual(['Unknown field.']);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { ParseError, PayloadTooLarge, UnsupportedMediaType } from '../../../lib/errors.js';
import { parseJsonBody } from '../../../lib/http/body.js';
import { apiEvent } from '../../support/events.js';

const MAX = 1_024;

function post(rawBody: string | undefined, contentType?: string, isBase64Encoded = false) {
  const event = apiEvent({ method: 'POST', rawBody, headers: contentType ? { 'content-type': contentType } : {} });
  return { ...event, isBase64Encoded };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('parseJsonBody', () => {
  it('parses a JSON object', () => {
    expect(parseJsonBody(post('{"a":1,"b":[true,null]}', 'application/json'), MAX)).toEqual({ a: 1, b: [true, null] });
  });

  it.each([[undefined], [''], ['   \n']])('reads the empty body %j as {}', (body) => {
    expect(parseJsonBody(post(body, 'application/json'), MAX)).toEqual({});
  });

  it('reads an empty body as {} whatever the content type', () => {
    expect(parseJsonBody(post('', 'text/plain'), MAX)).toEqual({});
  });

  it('returns non-object JSON as is, for the schema to reject', () => {
    expect(parseJsonBody(post('[1,2]', 'application/json'), MAX)).toEqual([1, 2]);
    expect(parseJsonBody(post('"text"', 'application/json'), MAX)).toBe('text');
  });

  it('reads a lone surrogate as U+FFFD, as PostgreSQL would store it; pairs and other escapes stay', () => {
    const body = String.raw`{"username": "\ud800", "b": ["x\udc00y\ud83d"], "emoji": "\ud83d\udcb8", "raw": "💸", "t": "\u0041"}`;
    expect(parseJsonBody(post(body, 'application/json'), MAX)).toEqual({ username: '\ufffd', b: ['x\ufffdy\ufffd'], emoji: '💸', raw: '💸', t: 'A' });
  });

  it('reads a body without a content type as JSON', () => {
    expect(parseJsonBody(post('{"a":1}'), MAX)).toEqual({ a: 1 });
  });

  it.each(['application/json; charset=utf-8', 'Application/JSON', 'application/vnd.api+json', 'application/problem+json;v=1'])(
    'accepts the JSON content type %j',
    (contentType) => {
      expect(parseJsonBody(post('{"a":1}', contentType), MAX)).toEqual({ a: 1 });
    },
  );

  it('refuses malformed JSON with a 400 whose detail starts "JSON parse error - "', () => {
    const err = thrown(() => parseJsonBody(post('{"a":', 'application/json'), MAX));
    expect(err).toBeInstanceOf(ParseError);
    expect((err as ParseError).detail).toMatch(/^JSON parse error - ./);
    expect((err as ParseError).status).toBe(400);
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp', `application/json; ${'x'.repeat(250)}`])(
    'refuses a non-empty body of type %j with 415',
    (contentType) => {
      const err = thrown(() => parseJsonBody(post('{"a":1}', contentType), MAX));
      expect(err).toBeInstanceOf(UnsupportedMediaType);
      expect((err as UnsupportedMediaType).status).toBe(415);
    },
  );

  it('names the media type without its parameters, as DRF does', () => {
    const err = thrown(() => parseJsonBody(post('a=1', 'text/plain; charset=utf-8'), MAX)) as UnsupportedMediaType;
    expect(err.detail).toBe('Unsupported media type "text/plain" in request.');
  });

  describe('size limit', () => {
    it('accepts a body of exactly the limit', () => {
      const body = JSON.stringify({ a: 'x'.repeat(MAX - 8) });
      expect(Buffer.byteLength(body)).toBe(MAX);
      expect(parseJsonBody(post(body, 'application/json'), MAX)).toEqual({ a: 'x'.repeat(MAX - 8) });
    });

    it('refuses a body one byte over the limit with 413', () => {
      const body = JSON.stringify({ a: 'x'.repeat(MAX - 7) });
      const err = thrown(() => parseJsonBody(post(body, 'application/json'), MAX));
      expect(err).toBeInstanceOf(PayloadTooLarge);
      expect((err as PayloadTooLarge).status).toBe(413);
      expect((err as PayloadTooLarge).detail).toBe(`Request body exceeds ${MAX} bytes.`);
    });

    it('counts bytes, not characters', () => {
      const body = JSON.stringify({ a: 'é'.repeat(MAX / 2) });
      expect(body.length).toBeLessThan(MAX);
      expect(thrown(() => parseJsonBody(post(body, 'application/json'), MAX))).toBeInstanceOf(PayloadTooLarge);
    });

    it('checks the size before the content type', () => {
      expect(thrown(() => parseJsonBody(post('x'.repeat(MAX + 1), 'text/plain'), MAX))).toBeInstanceOf(PayloadTooLarge);
    });
  });

  describe('base64-encoded bodies', () => {
    const encode = (text: string) => Buffer.from(text, 'utf8').toString('base64');

    it('are decoded before parsing', () => {
      expect(parseJsonBody(post(encode('{"note":"café"}'), 'application/json', true), MAX)).toEqual({ note: 'café' });
    });

    it('are {} when they decode to nothing', () => {
      expect(parseJsonBody(post('', 'application/json', true), MAX)).toEqual({});
    });

    it('are refused with 413 when the decoded size is over the limit', () => {
      const body = encode(JSON.stringify({ a: 'x'.repeat(MAX) }));
      expect(thrown(() => parseJsonBody(post(body, 'application/json', true), MAX))).toBeInstanceOf(PayloadTooLarge);
    });

    it('are refused with 400 when they decode to malformed JSON', () => {
      expect(thrown(() => parseJsonBody(post(encode('{nope'), 'application/json', true), MAX))).toBeInstanceOf(ParseError);
    });
  });
});

describe('parseJsonBody size of base64 bodies', () => {
  it('accepts a base64 body of exactly the limit, as the same body sent plain', () => {
    const json = JSON.stringify({ d: 'x'.repeat(1024 - 8) });
    expect(Buffer.byteLength(json)).toBe(1024);
    const event = { ...apiEvent({ method: 'POST', rawBody: Buffer.from(json).toString('base64') }), isBase64Encoded: true };
    expect(parseJsonBody(event, 1024)).toEqual(JSON.parse(json));
  });
});

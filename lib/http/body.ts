import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ParseError, PayloadTooLarge, UnsupportedMediaType } from '../errors.js';

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;
/** Longer is no JSON type anyone sends; refused before JSON_TYPE reads it. */
const MAX_CONTENT_TYPE = 255;

// A lone surrogate (a "\ud800" escape in JSON) is no text: PostgreSQL stores U+FFFD instead, so
// a value read back differs from the one sent (the login counters' keys did: a 500). It becomes
// U+FFFD here, as a UTF-8 decoder treats a bad byte, before anything reads the body.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const MAY_HOLD_SURROGATE = /\\u[dD][89a-fA-F]|[\ud800-\udfff]/;
const wellFormed = (_key: string, value: unknown) => (typeof value === 'string' ? value.replace(LONE_SURROGATE, '\ufffd') : value);

/**
 * The request body as a JSON value. An empty body is `{}` (so missing fields are reported as
 * such); a body over `maxBytes` is 413; a non-JSON content type is 415; bad JSON is 400.
 */
export function parseJsonBody(event: APIGatewayProxyEventV2, maxBytes: number): unknown {
  const raw = event.body ?? '';
  const size = event.isBase64Encoded
    ? Math.floor((raw.length * 3) / 4) - (raw.endsWith('==') ? 2 : raw.endsWith('=') ? 1 : 0)
    : Buffer.byteLength(raw);
  if (size > maxBytes) throw new PayloadTooLarge(maxBytes);
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (text.trim() === '') return {};
  const contentType = event.headers?.['content-type'];
  // A missing content type is read as JSON: curl users forget the header more often than not.
  if (contentType && (contentType.length > MAX_CONTENT_TYPE || !JSON_TYPE.test(contentType))) {
    throw new UnsupportedMediaType(contentType.split(';')[0]!.trim());
  }
  try {
    return MAY_HOLD_SURROGATE.test(text) ? JSON.parse(text, wellFormed) : JSON.parse(text);
  } catch (err) {
    // V8's message quotes part of the input (which may be a password): keep only its first clause.
    throw new ParseError(`JSON parse error - ${(err as Error).message.split(/,?\s*\.\.\.|,\s*"/)[0]}`);
  }
}

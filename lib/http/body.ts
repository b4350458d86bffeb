import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ParseError, PayloadTooLarge, UnsupportedMediaType } from '../errors.js';

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

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
  if (contentType && !JSON_TYPE.test(contentType)) throw new UnsupportedMediaType(contentType.split(';')[0]!.trim());
  try {
    return JSON.parse(text);
  } catch (err) {
    // V8's message quotes part of the input (which may be a password): keep only its first clause.
    throw new ParseError(`JSON parse error - ${(err as Error).message.split(/,?\s*\.\.\.|,\s*"/)[0]}`);
  }
}

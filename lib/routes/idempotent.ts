import { z } from 'zod';
import { KEY, KEY_TTL_HOURS } from '../idempotency.js';
import * as out from '../openapi/responses.js';
import { unauthenticated, type Reply } from './route.js';

// The request header and replies of a POST honouring Idempotency-Key (lib/http/idempotent.ts).
// Apart from route.ts so that only the routes that create pull lib/idempotency.ts into a bundle.

/** The validation of lib/idempotency.ts (parseIdempotencyKey), as a schema for the document. */
export const idempotencyKey = z.object({
  'Idempotency-Key': z
    .string()
    .min(1)
    .max(255)
    .regex(KEY)
    .optional()
    .meta({
      description:
        `Optional, 1 to 255 printable ASCII characters without spaces; kept per user for ${KEY_TTL_HOURS} hours. ` +
        'A retry with the same key and the same request replays the first response (with Idempotent-Replayed: true) ' +
        'instead of creating a second object.',
    }),
});
/** The replies of a POST honouring Idempotency-Key (lib/http/idempotent.ts). */
export const idempotent = (description: string, json: [string, z.ZodType]): Record<number, Reply> => ({
  201: { description: `${description}; a replay (same Idempotency-Key, same request) answers the first response byte for byte, with Idempotent-Replayed: true`, json, headers: ['Idempotent-Replayed'] },
  400: { description: 'Invalid fields, malformed JSON or a malformed Idempotency-Key ({"detail": …})', json: ['BadRequest', out.badRequest] },
  401: unauthenticated,
  409: { description: 'A request with this Idempotency-Key is still being processed; retry after Retry-After seconds', json: ['Detail', out.detail], headers: ['Retry-After'] },
  422: { description: 'This Idempotency-Key was already used with a different request (body or endpoint)', json: ['Detail', out.detail] },
});

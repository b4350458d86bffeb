import { withConnection, type Db } from '../db.js';
import { claimKey, parseIdempotencyKey, releaseKey, requestHash, type SaveAs } from '../idempotency.js';
import type { ApiRequest } from './api.js';
import { HttpReply } from './responses.js';

/**
 * A POST honouring the Idempotency-Key header. Without it: one connection, `write`. With it:
 * on the same connection, claim the key (one statement), then `write` saves its response in the
 * statement that creates the row; a replay answers the first status and body byte for byte.
 */
export async function idempotentCreate<T>(
  req: ApiRequest<unknown, unknown>,
  write: (db: Db, save?: SaveAs) => Promise<T>,
): Promise<T | HttpReply> {
  const key = parseIdempotencyKey(req.event.headers?.['idempotency-key']);
  if (key === undefined) return withConnection((db) => write(db), req.connection);
  const claim = { userId: req.caller.id, issuedAt: req.caller.issuedAt, key, hash: requestHash(req.route, req.body) };
  return withConnection(async (db) => {
    const result = await claimKey(db, claim);
    if (!result.claimed) {
      const headers = { 'Content-Type': 'application/json; charset=utf-8', 'Idempotent-Replayed': 'true' };
      return new HttpReply(result.status, result.response, headers, true);
    }
    try {
      return await write(db, { claim, status: req.status });
    } catch (err) {
      await releaseKey(db, claim).catch(() => undefined);
      throw err;
    }
  }, req.connection);
}

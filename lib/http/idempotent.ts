import { withConnection, type Db } from '../db.js';
import { claimKey, parseIdempotencyKey, releaseKey, requestHash, type SaveAs } from '../idempotency.js';
import type { Request } from './api.js';
import { HttpReply } from './responses.js';

/**
 * A POST honouring the Idempotency-Key header. Without it: one connection, `write`. With it:
 * on the same connection, claim the key (one statement), then `write` saves its response in the
 * statement that creates the row; a replay answers the first status and body byte for byte.
 */
export async function idempotentCreate<T>(
  req: Request<unknown, unknown>,
  scope: string,
  status: number,
  write: (db: Db, save?: SaveAs) => Promise<T>,
): Promise<T | HttpReply> {
  const key = parseIdempotencyKey(req.event.headers?.['idempotency-key']);
  if (key === undefined) return withConnection((db) => write(db), req);
  const claim = { userId: req.userId, key, hash: requestHash(scope, req.body) };
  return withConnection(async (db) => {
    const result = await claimKey(db, claim);
    if (!result.claimed) {
      const headers = { 'Content-Type': 'application/json; charset=utf-8', 'Idempotent-Replayed': 'true' };
      return new HttpReply(result.status, result.response, headers, true);
    }
    try {
      return await write(db, { claim, status });
    } catch (err) {
      await releaseKey(db, claim).catch(() => undefined);
      throw err;
    }
  }, req);
}

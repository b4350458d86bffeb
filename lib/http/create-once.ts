import { randomUUID } from 'node:crypto';
import { withConnection, type ConnectionOptions, type Db } from '../db.js';
import { DatabaseUnavailable } from '../errors.js';

/**
 * A create whose connection is lost (DatabaseUnavailable) may still have committed: the
 * INSERT ran, only its answer was lost. Answering 503 "retry" would make a client without
 * Idempotency-Key create the row twice. So the row's id is chosen here, before sending, and on
 * a lost connection this looks for it on a fresh connection and answers with it when it exists;
 * otherwise the 503 stands (nothing was written, the retry is safe). The lookup is scoped to the
 * user like any read.
 */
export async function createOnce<T>(
  opts: ConnectionOptions,
  create: (id: string) => Promise<T>,
  find: (db: Db, id: string) => Promise<T>,
): Promise<T> {
  const id = randomUUID();
  try {
    return await create(id);
  } catch (err) {
    if (!(err instanceof DatabaseUnavailable) || opts.signal?.aborted) throw err;
    const found = await withConnection((db) => find(db, id), opts).catch(() => undefined);
    if (found === undefined) throw err;
    return found;
  }
}

import { createHash } from 'node:crypto';
import { errorCode, type Db } from './db.js';
import { activeUser } from './auth/active-user.js';
import { BadRequest, Conflict, InvalidToken, Unprocessable } from './errors.js';

// Stripe-like Idempotency-Key records, without advisory locks (they pin RDS Proxy sessions):
// the key is claimed with INSERT ... ON CONFLICT (committed at once, so a concurrent request
// with the same key sees it and gets 409), and the created row and the saved response are
// written together by one statement (saveResponse). A failed request releases its claim.

export const KEY_TTL_HOURS = 24;
/**
 * A claim this old without a response belongs to an invocation that died (the functions' timeout
 * is 28 s, serverless.yml, and a claim is released on any error it sees): it may be taken over.
 */
const STALE_CLAIM_SECONDS = 60;

/** 1 to 255 printable ASCII characters without spaces (also the OpenAPI document's pattern). */
export const KEY = /^[\x21-\x7e]{1,255}$/;
/** Checked before KEY, so the pattern never reads more than this of a client's header. */
const MAX_KEY_LENGTH = 255;

/** The Idempotency-Key header, validated; undefined when absent. */
export function parseIdempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.length > MAX_KEY_LENGTH || !KEY.test(value)) throw new BadRequest('Idempotency-Key must be 1 to 255 printable ASCII characters without spaces.');
  return value;
}

/** Same endpoint and same (validated, normalised) body: the same request. */
export function requestHash(scope: string, body: unknown): string {
  return createHash('sha256').update(JSON.stringify([scope, body])).digest('hex');
}

export interface IdempotencyClaim {
  userId: number;
  /** The access token's iat, for the revocation check (lib/auth/active-user.ts). */
  issuedAt: number;
  key: string;
  hash: string;
}

/** What a create statement needs to save its response under the claimed key. */
export interface SaveAs {
  claim: IdempotencyClaim;
  status: number;
}

export type ClaimResult = { claimed: true } | { claimed: false; status: number; response: string };

/**
 * One statement: drops this user's expired keys (no cron needed), claims the key (or takes over
 * an expired or abandoned one), and reads the existing record when the key is taken.
 */
export async function claimKey(db: Db, claim: IdempotencyClaim): Promise<ClaimResult> {
  const { rows } = await claimStatement(db, claim).catch((err: unknown) => {
    // The token's user was deleted after the token was issued.
    if (errorCode(err) === '23503') throw new InvalidToken('User not found', { cause: err });
    throw err;
  });
  const row = rows[0]!;
  if (row.claimed) return { claimed: true };
  if (row.request_hash !== null && row.request_hash !== claim.hash) {
    throw new Unprocessable('This Idempotency-Key was already used with a different request.');
  }
  // No response yet, or a claim committed after this statement's snapshot: still in flight.
  if (row.status === null || row.response === null) {
    throw new Conflict('A request with this Idempotency-Key is still being processed. Retry shortly.', 1);
  }
  return { claimed: false, status: row.status, response: row.response };
}

function claimStatement(db: Db, claim: IdempotencyClaim) {
  return db.query<{ claimed: boolean; request_hash: string | null; status: number | null; response: string | null }>(
    `WITH purge AS (
       DELETE FROM idempotency_keys WHERE user_id = $1 AND expires_at < now() AND key <> $2
     ), claim AS (
       INSERT INTO idempotency_keys AS k (user_id, key, request_hash, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(hours => $4))
       ON CONFLICT (user_id, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, status = NULL, response = NULL,
             created_at = now(), expires_at = EXCLUDED.expires_at
         WHERE k.expires_at < now() OR (k.status IS NULL AND k.created_at < now() - make_interval(secs => $5))
       RETURNING 1
     )
     SELECT EXISTS (SELECT 1 FROM claim) AS claimed, k.request_hash, k.status, k.response
     FROM (SELECT 1) AS one
     LEFT JOIN idempotency_keys k ON k.user_id = $1 AND k.key = $2
     WHERE ${activeUser('$1', '$6')}`,
    [claim.userId, claim.key, claim.hash, KEY_TTL_HOURS, STALE_CLAIM_SECONDS, claim.issuedAt],
  );
}

/**
 * Wraps an `INSERT ... RETURNING` so that the same statement saves its JSON (row_to_json, in
 * the RETURNING list's column order) as the key's response: the row and the record commit together.
 */
export function withSavedResponse(
  insert: { text: string; values: unknown[] },
  save: SaveAs,
): { text: string; values: unknown[] } {
  const values = [...insert.values];
  const saved = savedResponseCte(values, save, 'ins');
  return {
    text: `WITH ins AS (${insert.text}),
      ${saved}
      SELECT * FROM ins`,
    values,
  };
}

/**
 * For a statement with CTEs of its own: the CTE `saved`, which stores the JSON of the row of
 * the CTE `source` (row_to_json, in its column order) as the key's response when there is one.
 * Appends its parameters to `values`.
 */
export function savedResponseCte(values: unknown[], { claim, status }: SaveAs, source: string): string {
  values.push(claim.userId, claim.key, status);
  const [user, key, code] = [values.length - 2, values.length - 1, values.length].map((n) => `$${n}`);
  return `saved AS (
        UPDATE idempotency_keys SET status = ${code}::smallint, response = (SELECT row_to_json(${source})::text FROM ${source})
        WHERE user_id = ${user} AND key = ${key} AND EXISTS (SELECT 1 FROM ${source})
      )`;
}

/** Gives the key back after a failed request, so that a retry runs again. */
export async function releaseKey(db: Db, claim: IdempotencyClaim): Promise<void> {
  await db.query('DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status IS NULL', [claim.userId, claim.key]);
}

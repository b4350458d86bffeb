import { errorCode, type Db } from '../db.js';
import { InvalidToken, NotFound } from '../errors.js';
import type { CreateInput, ListQuery, PatchInput } from './schema.js';

// Data access for transactions. Every statement is scoped to the user: another user's row
// is indistinguishable from a missing one.

export interface Transaction {
  id: string;
  type: string;
  amount: string;
  category: string;
  description: string;
  date: string;
  payment_mode: string;
  created_at: Date;
  updated_at: Date;
}

/** Columns as the API shows them: amount as an exact decimal string, date as YYYY-MM-DD. */
const COLUMNS = `id, type, amount::text AS amount, category, description, date::text AS date,
  payment_mode, created_at, updated_at`;

const WRITABLE = ['type', 'amount', 'category', 'description', 'date', 'payment_mode'] as const;

export async function insertTransaction(db: Db, userId: string, input: CreateInput): Promise<Transaction> {
  try {
    const { rows } = await db.query<Transaction>(
      `INSERT INTO transactions (user_id, type, amount, category, description, date, payment_mode)
       VALUES ($1, $2, $3, $4, $5, COALESCE($6::date, (now() AT TIME ZONE 'UTC')::date), $7)
       RETURNING ${COLUMNS}`,
      [userId, input.type, input.amount, input.category, input.description, input.date ?? null, input.payment_mode],
    );
    return rows[0]!;
  } catch (err) {
    // The token's user was deleted after the token was issued.
    if (errorCode(err) === '23503') throw new InvalidToken('User not found', { cause: err });
    throw err;
  }
}

export async function findTransaction(db: Db, userId: string, id: string): Promise<Transaction> {
  const { rows } = await db.query<Transaction>(
    `SELECT ${COLUMNS} FROM transactions WHERE id = $1 AND user_id = $2`,
    [id, userId],
  );
  if (!rows[0]) throw new NotFound();
  return rows[0];
}

/** PUT and PATCH: one UPDATE of the given fields (none: only updated_at moves). */
export async function updateTransaction(db: Db, userId: string, id: string, changes: PatchInput): Promise<Transaction> {
  const values: unknown[] = [id, userId];
  const sets = ['updated_at = now()'];
  for (const column of WRITABLE) {
    if (changes[column] === undefined) continue;
    values.push(changes[column]);
    sets.push(`${column} = $${values.length}`);
  }
  const { rows } = await db.query<Transaction>(
    `UPDATE transactions SET ${sets.join(', ')} WHERE id = $1 AND user_id = $2 RETURNING ${COLUMNS}`,
    values,
  );
  if (!rows[0]) throw new NotFound();
  return rows[0];
}

export async function deleteTransaction(db: Db, userId: string, id: string): Promise<void> {
  const { rowCount } = await db.query('DELETE FROM transactions WHERE id = $1 AND user_id = $2', [id, userId]);
  if (!rowCount) throw new NotFound();
}

/** One page and the total count in a single round trip (count(*) OVER () runs before LIMIT). */
export async function listTransactions(
  db: Db,
  userId: string,
  { page, page_size }: ListQuery,
): Promise<{ count: number; rows: Transaction[] }> {
  const { rows } = await db.query<Transaction & { total: string }>(
    `SELECT ${COLUMNS}, count(*) OVER () AS total FROM transactions
     WHERE user_id = $1
     ORDER BY date DESC, created_at DESC, id DESC
     LIMIT $2 OFFSET $3`,
    [userId, page_size, (page - 1) * page_size],
  );
  const count = rows[0] ? Number(rows[0].total) : 0;
  return { count, rows: rows.map(({ total: _total, ...row }) => row) };
}

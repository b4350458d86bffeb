import { errorCode, type Db } from '../db.js';
import { InvalidToken, NotFound, ValidationError } from '../errors.js';
import type { SaveAs } from '../http/idempotent.js';
import { withSavedResponse } from '../idempotency.js';
import { isoTimestamp } from '../sql.js';
import type { CreateInput, PatchInput } from './schema.js';

// Data access for transactions. Every statement is scoped to the user: another user's row
// is indistinguishable from a missing one, and the composite foreign key (user_id, book_id)
// means a transaction can only ever sit in a book of its own user.

export interface Transaction {
  id: string;
  book: string;
  type: string;
  amount: string;
  category: string;
  description: string;
  date: string;
  payment_mode: string;
  created_at: string;
  updated_at: string;
}

/** Columns as the API shows them: exact decimal strings, YYYY-MM-DD dates, ISO timestamps. */
export const columns = (t: string) => `${t}.id, ${t}.book_id AS book, ${t}.type, ${t}.amount::text AS amount,
  ${t}.category, ${t}.description, ${t}.date::text AS date, ${t}.payment_mode,
  ${isoTimestamp(`${t}.created_at`)} AS created_at, ${isoTimestamp(`${t}.updated_at`)} AS updated_at`;

const WRITABLE = ['type', 'amount', 'category', 'description', 'date', 'payment_mode'] as const;

/** DRF's PrimaryKeyRelatedField message: the same for a missing book and another user's. */
export const unknownBook = (id: string) => new ValidationError({ book: [`Invalid pk "${id}" - object does not exist.`] });

function translateWriteError(err: unknown, book: string | undefined): unknown {
  const constraint = (err as { constraint?: string }).constraint;
  if (errorCode(err) === '23503' && constraint === 'transactions_book_fkey' && book) return unknownBook(book);
  // The token's user was deleted after the token was issued (no user, hence no default book).
  if (errorCode(err) === '23503' || errorCode(err) === '23502') return new InvalidToken('User not found', { cause: err });
  return err;
}

/** One INSERT; without `book`, the user's default book (old clients). */
export async function insertTransaction(db: Db, userId: number, input: CreateInput, save?: SaveAs): Promise<Transaction> {
  const insert = {
    text: `INSERT INTO transactions AS t (user_id, book_id, type, amount, category, description, date, payment_mode)
       VALUES ($1, COALESCE($2::uuid, (SELECT id FROM books WHERE user_id = $1 AND is_default)),
               $3, $4, $5, $6, COALESCE($7::date, (now() AT TIME ZONE 'UTC')::date), $8)
       RETURNING ${columns('t')}`,
    values: [userId, input.book ?? null, input.type, input.amount, input.category, input.description, input.date ?? null, input.payment_mode],
  };
  const { text, values } = save ? withSavedResponse(insert, save.claim, save.status) : insert;
  try {
    const { rows } = await db.query<Transaction>(text, values);
    return rows[0]!;
  } catch (err) {
    throw translateWriteError(err, input.book);
  }
}

export async function findTransaction(db: Db, userId: number, id: string): Promise<Transaction> {
  const { rows } = await db.query<Transaction>(`SELECT ${columns('t')} FROM transactions t WHERE t.id = $1 AND t.user_id = $2`, [
    id,
    userId,
  ]);
  if (!rows[0]) throw new NotFound();
  return rows[0];
}

/** PUT and PATCH: one UPDATE of the given fields (none: only updated_at moves). */
export async function updateTransaction(db: Db, userId: number, id: string, changes: PatchInput): Promise<Transaction> {
  const values: unknown[] = [id, userId];
  const sets = ['updated_at = now()'];
  for (const column of WRITABLE) {
    if (changes[column] === undefined) continue;
    values.push(changes[column]);
    sets.push(`${column} = $${values.length}`);
  }
  if (changes.book !== undefined) {
    values.push(changes.book);
    sets.push(`book_id = $${values.length}`);
  }
  try {
    const { rows } = await db.query<Transaction>(
      `UPDATE transactions t SET ${sets.join(', ')} WHERE t.id = $1 AND t.user_id = $2 RETURNING ${columns('t')}`,
      values,
    );
    if (!rows[0]) throw new NotFound();
    return rows[0];
  } catch (err) {
    throw translateWriteError(err, changes.book);
  }
}

export async function deleteTransaction(db: Db, userId: number, id: string): Promise<void> {
  const { rowCount } = await db.query('DELETE FROM transactions WHERE id = $1 AND user_id = $2', [id, userId]);
  if (!rowCount) throw new NotFound();
}

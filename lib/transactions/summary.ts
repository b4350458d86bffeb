import type { z } from 'zod';
import { accessCte, REFUSAL, refusalOf, type Caller } from '../auth/active-user.js';
import type { Db } from '../db.js';
import { money } from '../sql.js';
import { filterSql, unknownBookFilter } from './filters.js';
import type { Filters, transactionSummaryOutput } from './schema.js';
import { bookFoundSql, ownBooksSql, paramsOf, scopedRows, summaryGroupsSql, summaryTally } from './totals.js';

export type Summary = z.output<typeof transactionSummaryOutput>;

interface Row {
  refusal: string | null;
  book_found: boolean;
  per_category: number;
  per_month: number;
  category: string | null;
  month: string | null;
  count: string;
  income: string;
  expense: string;
  transfers_in: string;
  transfers_out: string;
  balance: string;
}

/**
 * Totals, per category and per month of the filtered transactions: ONE statement. The groups
 * (category, month, type) come from the per-book month totals when the filters allow (book,
 * type, category, dates: the partial months at the ends of a date range are scanned), else
 * from one pass over the rows; then GROUPING SETS over those few groups. Sums are unbounded
 * numerics, so they never overflow the NUMERIC(14,2) of a single amount. The grand-total set
 * () always yields a row, even for no match. Transfer entries are summed apart from income and
 * expense (transfers_in, transfers_out: a deposit is no income) and count in `count` and `balance`.
 * A refused caller (accessRefusal) gets that row alone, with the refusal in it.
 */
export async function summarize(db: Db, user: Caller, filters: Filters): Promise<Summary> {
  const values: unknown[] = [user.id];
  const param = paramsOf(values);
  const own = ownBooksSql('$1', filters, param);
  const groups = summaryGroupsSql(filters, summaryTally(filters), () => scopedRows(filterSql(filters, values).where), param);
  const sum = (type: string, transfer: boolean) => `sum(g.amount) FILTER (WHERE g.type = '${type}' AND ${transfer ? '' : 'NOT '}g.transfer)`;
  const balance = `sum(CASE WHEN g.type = 'income' THEN g.amount ELSE -g.amount END)`;
  const { rows } = await db.query<Row>(
    `WITH ${own}, ${accessCte('$1', param(user.issuedAt))}, g AS (${groups})
     SELECT ${REFUSAL} AS refusal, ${bookFoundSql(filters)} AS book_found,
            1 - GROUPING(g.category) AS per_category, 1 - GROUPING(g.month) AS per_month,
            g.category, to_char(g.month, 'YYYY-MM') AS month, COALESCE(sum(g.n), 0) AS count,
            ${money(sum('income', false))} AS income, ${money(sum('expense', false))} AS expense,
            ${money(sum('income', true))} AS transfers_in, ${money(sum('expense', true))} AS transfers_out,
            ${money(balance)} AS balance
     FROM g
     WHERE ${REFUSAL} IS NULL
     GROUP BY GROUPING SETS ((), (g.category), (g.month))
     ORDER BY per_category, per_month, g.category, g.month`,
    values,
  );
  const total = rows.find((r) => !r.per_category && !r.per_month)!;
  const refused = refusalOf(total.refusal);
  if (refused) throw refused;
  if (!total.book_found) throw unknownBookFilter();
  return {
    count: Number(total.count),
    total_income: total.income,
    total_expense: total.expense,
    balance: total.balance,
    by_category: rows
      .filter((r) => r.per_category)
      .map((r) => ({ category: r.category!, income: r.income, expense: r.expense, transfers_in: r.transfers_in, transfers_out: r.transfers_out })),
    by_month: rows
      .filter((r) => r.per_month)
      .map((r) => ({
        month: r.month!,
        income: r.income,
        expense: r.expense,
        balance: r.balance,
        transfers_in: r.transfers_in,
        transfers_out: r.transfers_out,
      })),
    transfers_in: total.transfers_in,
    transfers_out: total.transfers_out,
  };
}

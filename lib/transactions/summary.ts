import type { Db } from '../db.js';
import { money } from '../sql.js';
import { filterSql } from './filters.js';
import { bookCheckSql, unknownBookFilter } from './list.js';
import type { Filters } from './schema.js';

export interface Summary {
  count: number;
  total_income: string;
  total_expense: string;
  balance: string;
  by_category: Array<{ category: string; income: string; expense: string }>;
  by_month: Array<{ month: string; income: string; expense: string; balance: string }>;
}

interface Row {
  book_found: boolean;
  per_category: number;
  per_month: number;
  category: string | null;
  month: string | null;
  count: string;
  income: string;
  expense: string;
  balance: string;
}

/**
 * Totals, per category and per month of the filtered transactions: ONE statement and one pass
 * over the rows (then GROUPING SETS over the small grouped result). Sums are unbounded numerics, so they never overflow the
 * NUMERIC(14,2) of a single amount. The grand-total set () always yields a row, even for no match.
 */
export async function summarize(db: Db, userId: number, filters: Filters): Promise<Summary> {
  const { where, values } = filterSql(userId, filters);
  const income = `sum(g.amount) FILTER (WHERE g.type = 'income')`;
  const expense = `sum(g.amount) FILTER (WHERE g.type = 'expense')`;
  const { rows } = await db.query<Row>(
    // g: one pass over the rows into (category, month, type) groups; then the grand total, the
    // per-category and the per-month figures from those few groups.
    `WITH g AS (
       SELECT t.category, date_trunc('month', t.date::timestamp)::date AS month, t.type, sum(t.amount::numeric) AS amount, count(*) AS n
       FROM transactions t WHERE ${where}
       GROUP BY 1, 2, 3
     )
     SELECT ${bookCheckSql(filters, values)} AS book_found,
            1 - GROUPING(g.category) AS per_category, 1 - GROUPING(g.month) AS per_month,
            g.category, to_char(g.month, 'YYYY-MM') AS month, COALESCE(sum(g.n), 0) AS count,
            ${money(income)} AS income, ${money(expense)} AS expense,
            ${money(`COALESCE(${income}, 0) - COALESCE(${expense}, 0)`)} AS balance
     FROM g
     GROUP BY GROUPING SETS ((), (g.category), (g.month))
     ORDER BY per_category, per_month, g.category, g.month`,
    values,
  );
  const total = rows.find((r) => !r.per_category && !r.per_month)!;
  if (!total.book_found) throw unknownBookFilter();
  return {
    count: Number(total.count),
    total_income: total.income,
    total_expense: total.expense,
    balance: total.balance,
    by_category: rows
      .filter((r) => r.per_category)
      .map((r) => ({ category: r.category!, income: r.income, expense: r.expense })),
    by_month: rows
      .filter((r) => r.per_month)
      .map((r) => ({ month: r.month!, income: r.income, expense: r.expense, balance: r.balance })),
  };
}

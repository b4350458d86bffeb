// A book's statement as plain data: what the database answered (StatementRows, lib/statements/
// read.ts) and what both renderers draw (Statement). Pure: money is BigInt cents, so running
// balances and totals over any number of entries are exact, and agree with the API's summary
// (sums of NUMERIC in PostgreSQL) to the cent.

export type EntryType = 'income' | 'expense';

/** One entry as read: amounts as the API writes them ("150.00"). */
export interface StatementEntryRow {
  date: string;
  type: EntryType;
  amount: string;
  category: string;
  description: string;
  payment_mode: string;
}

export interface StatementRows {
  book: { name: string; currency: string };
  /** Inclusive bounds as asked; null: from the first entry / up to the last. */
  period: { from: string | null; to: string | null };
  /** The book's balance before `period.from` ("0.00" without it). */
  opening: string;
  /** In ledger order (date, created_at, id), as the list's balance_after counts them. */
  entries: StatementEntryRow[];
}

export interface StatementEntry extends Omit<StatementEntryRow, 'amount'> {
  amount: bigint;
  /** The book's balance after this entry. */
  balance: bigint;
}

export interface CategoryTotal {
  category: string;
  entries: number;
  income: bigint;
  expense: bigint;
}

export interface Statement {
  book: { name: string; currency: string };
  period: { from: string | null; to: string | null };
  opening: bigint;
  entries: StatementEntry[];
  totalIn: bigint;
  totalOut: bigint;
  closing: bigint;
  /** Sorted by category in dictionary order. */
  byCategory: CategoryTotal[];
}

/** "-1234.5" / "150.00" -> cents; the database writes two places, but any decimal string is read exactly. */
export function toCents(amount: string): bigint {
  const negative = amount.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? amount.slice(1) : amount).split('.');
  const cents = BigInt(whole || '0') * 100n + BigInt((fraction + '00').slice(0, 2));
  return negative ? -cents : cents;
}

/** Cents -> "1234.50" (as the API writes money). */
export function fromCents(cents: bigint): string {
  const abs = cents < 0n ? -cents : cents;
  return `${cents < 0n ? '-' : ''}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/** Categories in dictionary order ("transfer" among the T's, as a database's en_US collation sorts the summary), then by code unit. */
const byName = new Intl.Collator('en');

/** Running balances, totals in and out, closing balance and per-category totals. */
export function buildStatement(rows: StatementRows): Statement {
  const opening = toCents(rows.opening);
  let balance = opening;
  let totalIn = 0n;
  let totalOut = 0n;
  const categories = new Map<string, CategoryTotal>();
  const entries = rows.entries.map((row): StatementEntry => {
    const amount = toCents(row.amount);
    const total = categories.get(row.category) ?? { category: row.category, entries: 0, income: 0n, expense: 0n };
    categories.set(row.category, total);
    total.entries++;
    if (row.type === 'income') {
      balance += amount;
      totalIn += amount;
      total.income += amount;
    } else {
      balance -= amount;
      totalOut += amount;
      total.expense += amount;
    }
    return { ...row, amount, balance };
  });
  return {
    book: rows.book,
    period: rows.period,
    opening,
    entries,
    totalIn,
    totalOut,
    closing: balance,
    byCategory: [...categories.values()].sort((a, b) => byName.compare(a.category, b.category) || (a.category < b.category ? -1 : 1)),
  };
}

/** The period in words: "2025-01-01 to 2025-12-31", "from 2025-01-01", "up to …", "all entries". */
export function periodText({ from, to }: Statement['period']): string {
  if (from && to) return `${from} to ${to}`;
  if (from) return `from ${from}`;
  if (to) return `up to ${to}`;
  return 'all entries';
}

/** The download's file name: statement_<from>_<to>.<ext>, ASCII only (a Content-Disposition value). */
export function statementFileName(period: Statement['period'], extension: 'pdf' | 'xlsx'): string {
  return `statement_${period.from ?? 'start'}_${period.to ?? 'end'}.${extension}`;
}

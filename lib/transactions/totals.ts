import { isMonthEnd, monthStart, nextMonthStart } from '../dates.js';
import type { Filters } from './schema.js';

// Reading the per-book totals that the triggers of migration 1764000020000 keep exact, in
// book_totals (book_id, grain, starts, category, type) -> entries, net (income - expense):
//   grain 0  one row per day   (category and type '')
//   grain 1  one row per month, category and type
//   grain 2  one row per year  (category and type '')
// Which filters the totals can answer decides how a list is counted, located and summarised;
// the rest (search, payment_mode, amounts) is answered by scanning the rows, as before.
// transfer_totals (migration 1764000070000) holds the transfer entries' share of the same keys:
// without transfers is book_totals minus transfer_totals, key by key.

/** Appends a parameter to the statement's values and answers its placeholder. */
export type Param = (value: unknown) => string;

export function paramsOf(values: unknown[]): Param {
  return (value) => {
    values.push(value);
    return `$${values.length}`;
  };
}

/**
 * The CTE `own`: the books in scope (every book the caller is an active member of; `?book=`
 * narrows them to one) with each one's account (books.user_id, which its entries' user_id holds).
 */
export function ownBooksSql(userParam: string, filters: Filters, param: Param): string {
  const book = filters.book ? ` AND m.book_id = ${param(filters.book)}::uuid` : '';
  return `own AS (SELECT m.book_id AS id, b.user_id AS account FROM book_members m JOIN books b ON b.id = m.book_id
                  WHERE m.user_id = ${userParam} AND m.status = 'active'${book})`;
}

/** The filtered rows of the books in scope, as a condition on `transactions t` (counts and scans). */
export const scopedRows = (where: string) => `t.book_id IN (SELECT id FROM own) AND ${where}`;

/** Whether `?book=` names one of the user's books (always true without it). */
export const bookFoundSql = (filters: Filters) => (filters.book ? 'EXISTS (SELECT 1 FROM own)' : 'true');

/**
 * How the filtered rows can be totalled:
 *   periods     filters among book, date_from, date_to: day rows (year rows with no dates);
 *   categories  filters among book, type, category, date_from, date_to: month rows (per
 *               category and type), plus a scan of the rows in the partial months at the
 *               ends of a date range (`edges`);
 *   scan        any other filter (search, payment_mode, amounts): the rows themselves.
 */
export type Tally =
  | { kind: 'periods' }
  | { kind: 'categories'; fullFrom?: string; fullEnd?: string; edges: boolean }
  | { kind: 'scan' };

export function tallyFor(filters: Filters): Tally {
  const scanned = [filters.search, filters.payment_mode, filters.min_amount, filters.max_amount];
  if (scanned.some((f) => f !== undefined)) return { kind: 'scan' };
  if (filters.type === undefined && filters.category === undefined) return { kind: 'periods' };
  return categoriesTally(filters);
}

/** The summary needs categories and months: the categories table whenever it can answer. */
export function summaryTally(filters: Filters): Tally {
  const tally = tallyFor(filters);
  return tally.kind === 'periods' ? categoriesTally(filters) : tally;
}

function categoriesTally(filters: Filters): Tally {
  // Whole months inside [date_from, date_to] come from month rows; the rest is scanned.
  const fullFrom = filters.date_from && (filters.date_from.endsWith('-01') ? filters.date_from : nextMonthStart(filters.date_from));
  const fullEnd = filters.date_to && (isMonthEnd(filters.date_to) ? nextMonthStart(filters.date_to) : monthStart(filters.date_to));
  const edges = fullFrom !== filters.date_from || (filters.date_to !== undefined && !isMonthEnd(filters.date_to));
  return { kind: 'categories', fullFrom, fullEnd, edges };
}

/**
 * The totals rows of the entries in scope, as a relation to alias: book_totals, or with
 * ?exclude_transfers=true book_totals minus the transfers' share (a UNION ALL: the conditions
 * on `a` reach both tables' primary key indexes).
 */
const totalsOf = (filters: Filters) =>
  filters.exclude_transfers
    ? `(SELECT book_id, grain, starts, category, type, entries, net FROM book_totals
        UNION ALL SELECT book_id, grain, starts, category, type, -entries, -net FROM transfer_totals)`
    : 'book_totals';

/** Conditions on month rows of `book_totals a` for the filters and the whole months of the range. */
function categoryConditions(filters: Filters, tally: Extract<Tally, { kind: 'categories' }>, param: Param): string {
  const conditions = ['a.book_id IN (SELECT id FROM own)', 'a.grain = 1'];
  if (filters.type) conditions.push(`a.type = ${param(filters.type)}`);
  if (filters.category !== undefined) conditions.push(`a.category = ${param(filters.category)}`);
  if (tally.fullFrom) conditions.push(`a.starts >= ${param(tally.fullFrom)}::date`);
  if (tally.fullEnd) conditions.push(`a.starts < ${param(tally.fullEnd)}::date`);
  return conditions.join(' AND ');
}

/** The rows of the filtered set that are outside the whole months (`where` already holds the range). */
function edgeCondition(tally: Extract<Tally, { kind: 'categories' }>, param: Param): string {
  const outside = [];
  if (tally.fullFrom) outside.push(`t.date < ${param(tally.fullFrom)}::date`);
  if (tally.fullEnd) outside.push(`t.date >= ${param(tally.fullEnd)}::date`);
  return `(${outside.join(' OR ')})`;
}

/** Conditions on `book_totals a`: day rows in the date range (year rows when there is none and `days` is not asked). */
function periodConditions(filters: Filters, param: Param, days = false): string {
  const conditions = ['a.book_id IN (SELECT id FROM own)'];
  if (!days && filters.date_from === undefined && filters.date_to === undefined) return [...conditions, 'a.grain = 2'].join(' AND ');
  conditions.push('a.grain = 0');
  if (filters.date_from) conditions.push(`a.starts >= ${param(filters.date_from)}::date`);
  if (filters.date_to) conditions.push(`a.starts <= ${param(filters.date_to)}::date`);
  return conditions.join(' AND ');
}

/**
 * The filters as a condition on `transactions t`, built on demand: a statement may hold no
 * parameter it does not use (PostgreSQL could not type it).
 */
export type Where = () => string;

/** A scalar expression: how many transactions match. */
export function countSql(filters: Filters, tally: Tally, where: Where, param: Param): string {
  if (tally.kind === 'scan') return `(SELECT count(*) FROM transactions t WHERE ${where()})`;
  if (tally.kind === 'periods') {
    return `(SELECT COALESCE(sum(a.entries), 0) FROM ${totalsOf(filters)} a WHERE ${periodConditions(filters, param)})`;
  }
  const totals = `(SELECT COALESCE(sum(a.entries), 0) FROM ${totalsOf(filters)} a WHERE ${categoryConditions(filters, tally, param)})`;
  if (!tally.edges) return totals;
  return `(${totals} + (SELECT count(*) FROM transactions t WHERE ${where()} AND ${edgeCondition(tally, param)}))`;
}

/**
 * The summary's groups (category, month, type, transfer, amount, n) as the body of the CTE `g`:
 * month rows of the totals, plus the scanned edges of a date range; or every row for a scan.
 * `transfer` marks the transfer entries' share: from the totals, book_totals' rows count all
 * entries as ordinary ones, and each transfer_totals row moves its share from ordinary to
 * transfer (or, with ?exclude_transfers=true, only takes it out).
 */
export function summaryGroupsSql(filters: Filters, tally: Tally, where: Where, param: Param): string {
  const scanned = (condition: string) =>
    `SELECT t.category, date_trunc('month', t.date::timestamp)::date AS month, t.type, t.transfer_id IS NOT NULL AS transfer,
            sum(t.amount) AS amount, count(*) AS n
     FROM transactions t WHERE ${condition} GROUP BY 1, 2, 3, 4`;
  if (tally.kind !== 'categories') return scanned(where());
  const amount = `sum(CASE WHEN a.type = 'income' THEN a.net ELSE -a.net END)`;
  const shares = filters.exclude_transfers ? '(false, -1)' : '(false, -1), (true, 1)';
  const totals = `SELECT a.category, a.starts AS month, a.type, false AS transfer, ${amount} AS amount, sum(a.entries) AS n
     FROM book_totals a WHERE ${categoryConditions(filters, tally, param)} GROUP BY 1, 2, 3
     UNION ALL
     SELECT a.category, a.starts, a.type, s.transfer, s.sign * ${amount}, s.sign * sum(a.entries)
     FROM transfer_totals a CROSS JOIN (VALUES ${shares}) AS s (transfer, sign)
     WHERE ${categoryConditions(filters, tally, param)} GROUP BY 1, 2, 3, 4, s.sign`;
  return tally.edges ? `${totals} UNION ALL ${scanned(`${where()} AND ${edgeCondition(tally, param)}`)}` : totals;
}

/**
 * Where a page deep into a date-ordered list starts, without walking the rows before it: the
 * CTE `loc` holds the bucket (a day, or a month for type/category filters) in which the page's
 * first row lies, and `skip`, how many matching rows come before that bucket. The page then
 * starts at that bucket with OFFSET (offset - skip): at most one bucket's rows are skipped.
 * Null when the totals cannot count the filtered rows bucket by bucket.
 */
export function locateSql(
  filters: Filters,
  tally: Tally,
  descending: boolean,
  offsetParam: string,
  param: Param,
): { cte: string; pageCondition: string; offset: string } | null {
  let buckets: string;
  let bucketEnd: string;
  if (tally.kind === 'periods') {
    buckets = `SELECT a.starts AS bucket, sum(a.entries) AS n FROM ${totalsOf(filters)} a
               WHERE ${periodConditions(filters, param, true)} GROUP BY a.starts`;
    bucketEnd = 'bucket + 1';
  } else if (tally.kind === 'categories' && !tally.edges) {
    buckets = `SELECT a.starts AS bucket, sum(a.entries) AS n FROM ${totalsOf(filters)} a
               WHERE ${categoryConditions(filters, tally, param)} GROUP BY a.starts`;
    bucketEnd = `(bucket + interval '1 month')::date`;
  } else {
    return null;
  }
  const order = descending ? 'DESC' : 'ASC';
  const cte = `loc AS (
       SELECT x.bucket, ${bucketEnd} AS bucket_end, x.upto - x.n AS skip
       FROM (SELECT s.bucket, s.n, sum(s.n) OVER (ORDER BY s.bucket ${order}) AS upto FROM (${buckets}) AS s) AS x
       WHERE x.upto > ${offsetParam} ORDER BY x.bucket ${order} LIMIT 1
     )`;
  return {
    cte,
    pageCondition: descending ? 't.date < (SELECT bucket_end FROM loc)' : 't.date >= (SELECT bucket FROM loc)',
    offset: `(SELECT ${offsetParam} - skip FROM loc)`,
  };
}

/**
 * A book's balance at the start (or, `inclusive`, the end) of a day: its year rows before that
 * year, month rows of that year before that month and day rows of that month before (or up
 * to) that day — three index ranges of book_totals, a few dozen rows (months count once per
 * category and type).
 */
export function balanceAtSql(book: string, day: string, inclusive: boolean): string {
  const month = `date_trunc('month', ${day}::timestamp)::date`;
  return `(${monthStartSql(book, month)}
     + ${totalsPart(book, `a.grain = 0 AND a.starts >= ${month} AND a.starts ${inclusive ? '<=' : '<'} ${day}`)})`;
}

/** A book's balance at the start of `month` (a first of the month): its years before, then its months of that year before. */
export function monthStartSql(book: string, month: string): string {
  const year = `date_trunc('year', ${month}::timestamp)::date`;
  return `(${totalsPart(book, `a.grain = 2 AND a.starts < ${year}`)} + ${totalsPart(book, `a.grain = 1 AND a.starts >= ${year} AND a.starts < ${month}`)})`;
}

const totalsPart = (book: string, condition: string) =>
  `COALESCE((SELECT sum(a.net) FROM book_totals a WHERE a.book_id = ${book} AND ${condition}), 0)`;

/** A book's balance: the sum of its year rows. */
export const bookBalanceSql = (book: string) =>
  `(SELECT sum(a.net) FROM book_totals a WHERE a.book_id = ${book} AND a.grain = 2)`;


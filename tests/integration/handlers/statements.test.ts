import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as createBook } from '../../../functions/create-book.js';
import { handler as createTx } from '../../../functions/create-transaction.js';
import { handler as getBook } from '../../../functions/get-book.js';
import { handler as statementPdf } from '../../../functions/get-book-statement-pdf.js';
import { handler as statementXlsx } from '../../../functions/get-book-statement-xlsx.js';
import { handler as list } from '../../../functions/list-transactions.js';
import { handler as summary } from '../../../functions/get-transaction-summary.js';
import { getConfig } from '../../../lib/config.js';
import { excelDate } from '../../../lib/statements/xlsx.js';
import { signUp } from '../../support/accounts.js';
import { adminQuery, expectNoAppConnections, peakConnections, resetData } from '../../support/db.js';
import { invoke, type Reply } from '../../support/events.js';
import { byColumn, lineOf, readPdf, readXlsx, type XlsxCell } from '../../support/statements.js';

// GET /api/books/{id}/statement.pdf and .xlsx through the handlers on PostgreSQL: the files'
// figures against the API's own (the summary, the list's balance_after, the book's balance) to
// the cent; another user's book is a 404 like a missing one; a period past STATEMENT_MAX_ROWS
// is refused with a 413 naming the limit, without reading its entries; no connection is left.

type User = Awaited<ReturnType<typeof signUp>>;
let alice: User;
let mallory: User;
let shop: string;
const STATEMENT_MAX_ROWS = getConfig().statements.maxRows;

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const JANUARY = { date_after: '2025-01-01', date_before: '2025-01-31' };
const FIRST_TABLE_ROW = 5; // the opening balance's row index in the "Statement" sheet

const statement = (handler: unknown, id: string, token: string, query: Record<string, string> = JANUARY, kind = 'xlsx') =>
  invoke(handler, { path: `/api/books/${id}/statement.${kind}`, pathParameters: { id }, token, query });

const bytes = (res: Reply) => Buffer.from(res.raw!, 'base64');

/** The "Statement" sheet's table: opening row, entries, totals row, closing row. */
function table(res: Reply) {
  const rows = readXlsx(bytes(res)).sheets[0]!.rows.slice(FIRST_TABLE_ROW).map(byColumn);
  return { opening: rows[0]!, entries: rows.slice(1, -2), totals: rows.at(-2)!, closing: rows.at(-1)! };
}

const value = (cell: XlsxCell | undefined) => cell?.value ?? '0.00';
/** Excel's number as the API writes money ("-12.5" -> "-12.50"). */
const money = (cell: XlsxCell | undefined) => (cell ? Number(cell.value).toFixed(2) : '0.00');

describe('book statements', () => {
  beforeAll(async () => {
    await resetData();
    alice = await signUp('alice');
    mallory = await signUp('mallory');
    const created = await invoke(createBook, { method: 'POST', path: '/api/books/', token: alice.access, body: { name: 'Shop', currency: 'USD' } });
    shop = created.body.id;
    // December before the period, January inside it, February after; distinct created_at so
    // the ledger order (date, created_at, id) is the list's date,created_at order.
    await adminQuery(
      `INSERT INTO transactions (user_id, book_id, type, amount, category, description, payment_mode, date, created_at)
       SELECT $1, $2, CASE WHEN i % 4 = 0 THEN 'income' ELSE 'expense' END, (i * 137 % 100000) / 100.0 + 1,
              (ARRAY['Food', 'Rent', '', 'transfer'])[i % 4 + 1], 'entry ' || i, 'cash',
              DATE '2024-12-01' + (i % 90), now() - make_interval(secs => 1000 - i)
       FROM generate_series(1, 270) AS i`,
      [alice.id, shop],
    );
    for (const body of [
      { type: 'income', amount: '1234567.89', category: 'Food', date: '2025-01-15', description: 'big sale', book: shop },
      { type: 'expense', amount: '0.01', category: 'Rent', date: '2025-01-31', description: 'last day', book: shop },
    ]) {
      expect((await invoke(createTx, { method: 'POST', path: '/api/transactions/', token: alice.access, body })).status).toBe(201);
    }
  });
  afterAll(() => expectNoAppConnections());

  it('answers an Excel workbook as an attachment', async () => {
    const res = await statement(statementXlsx, shop, alice.access);
    expect(res.status).toBe(200);
    expect(res.headers['Content-Type']).toBe(XLSX);
    expect(res.headers['Content-Disposition']).toBe('attachment; filename="statement_2025-01-01_2025-01-31.xlsx"');
    expect(bytes(res).subarray(0, 2).toString('latin1')).toBe('PK');
  });

  it("agrees with the summary to the cent: totals in and out, and each category's", async () => {
    const sums = (await invoke(summary, { path: '/api/transactions/summary/', token: alice.access, query: { book: shop, date_from: JANUARY.date_after, date_to: JANUARY.date_before } })).body;
    const res = await statement(statementXlsx, shop, alice.access);
    const { entries, totals } = table(res);
    expect(entries).toHaveLength(sums.count);
    expect(money(totals.E)).toBe(sums.total_income);
    expect(money(totals.F)).toBe(sums.total_expense);
    // Exact decimals in the cells (not floats rounded on the way).
    expect(value(totals.E)).toBe(sums.total_income);
    const sheet = readXlsx(bytes(res)).sheets[1]!.rows.slice(1).map((r) => r.map((c) => c.value));
    for (const c of sums.by_category) {
      expect(sheet, c.category).toContainEqual([c.category, expect.any(String), c.income, c.expense, expect.any(String)]);
    }
  });

  it("opens with the balance before the period, runs each entry's balance as the list does, and closes with the book's balance at its end", async () => {
    const res = await statement(statementXlsx, shop, alice.access);
    const { opening, entries, closing } = table(res);
    const before = await adminQuery<{ balance: string }>(
      `SELECT COALESCE(sum(CASE WHEN type = 'income' THEN amount ELSE -amount END), 0)::numeric(20, 2)::text AS balance
       FROM transactions WHERE book_id = $1 AND date < '2025-01-01'`,
      [shop],
    );
    expect(value(opening.G)).toBe(before[0]!.balance);
    const listed = (await invoke(list, {
      path: '/api/transactions/',
      token: alice.access,
      query: { book: shop, ...{ date_from: JANUARY.date_after, date_to: JANUARY.date_before }, ordering: 'date,created_at', page_size: '100' },
    })).body;
    expect(entries.map((e) => [e.A!.value, e.B?.value ?? '', value(e.G)])).toEqual(
      listed.results.map((t: { date: string; description: string; balance_after: string }) => [String(excelDate(t.date)), t.description, t.balance_after]),
    );
    expect(value(closing.G)).toBe(listed.results.at(-1).balance_after);
  });

  it('covers the whole book without dates: opening 0.00, closing = the book\'s balance', async () => {
    const res = await statement(statementXlsx, shop, alice.access, {});
    const { opening, entries, closing } = table(res);
    const book = (await invoke(getBook, { path: `/api/books/${shop}/`, pathParameters: { id: shop }, token: alice.access })).body;
    expect(value(opening.G)).toBe('0.00');
    expect(entries).toHaveLength(272);
    expect(value(closing.G)).toBe(book.balance);
    expect(res.headers['Content-Disposition']).toBe('attachment; filename="statement_start_end.xlsx"');
  });

  it('answers the same statement as a PDF: the header, the totals and the closing balance formatted for the currency', async () => {
    const sums = (await invoke(summary, { path: '/api/transactions/summary/', token: alice.access, query: { book: shop, date_from: JANUARY.date_after, date_to: JANUARY.date_before } })).body;
    const res = await statement(statementPdf, shop, alice.access, JANUARY, 'pdf');
    expect(res.status).toBe(200);
    expect(res.headers['Content-Type']).toBe('application/pdf');
    expect(res.headers['Content-Disposition']).toBe('attachment; filename="statement_2025-01-01_2025-01-31.pdf"');
    const pdf = await readPdf(bytes(res));
    expect(pdf.pages).toBeGreaterThan(1);
    const texts = pdf.texts;
    expect(texts.filter((t) => t.text === 'Shop')).toHaveLength(pdf.pages);
    expect(texts.map((t) => t.text)).toContain(`Page ${pdf.pages} of ${pdf.pages}`);
    expect(texts.map((t) => t.text)).toContain('Currency USD  \u00b7  Period: 2025-01-01 to 2025-01-31');
    const usd = (amount: string) => Number(amount).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    const totals = lineOf(texts, texts.find((t) => t.text.startsWith('Totals ('))!).map((t) => t.text);
    expect(totals).toEqual([`Totals (${sums.count} entries)`, usd(sums.total_income), usd(sums.total_expense)]);
    const xlsxClosing = value(table(await statement(statementXlsx, shop, alice.access)).closing.G);
    expect(lineOf(texts, texts.find((t) => t.text === 'Closing balance' && t.bold)!).map((t) => t.text)).toEqual(['Closing balance', usd(xlsxClosing)]);
    const figures = lineOf(texts, texts.find((t) => t.size === 11 && t.page === 1 && t.text === usd(sums.total_income))!).map((t) => t.text);
    expect(figures.slice(1)).toEqual([usd(sums.total_income), usd(sums.total_expense), usd(xlsxClosing)]);
    expect(texts.map((t) => t.text)).toContain('big sale');
    expect(texts.map((t) => t.text)).toContain('1,234,567.89');
  });

  it("answers 404 for another user's book, exactly as for a missing one or a malformed id", async () => {
    for (const [handler, kind] of [[statementXlsx, 'xlsx'], [statementPdf, 'pdf']] as const) {
      const theirs = await statement(handler, shop, mallory.access, JANUARY, kind);
      const missing = await statement(handler, '00000000-0000-4000-8000-000000000000', alice.access, JANUARY, kind);
      const malformed = await statement(handler, 'not-a-uuid', alice.access, JANUARY, kind);
      for (const res of [theirs, missing, malformed]) expect([res.status, res.body]).toEqual([404, { detail: 'Not found.' }]);
    }
  });

  it('answers 401 without a token and 400 for a bad period, naming the parameter', async () => {
    expect((await invoke(statementPdf, { path: `/api/books/${shop}/statement.pdf`, pathParameters: { id: shop } })).status).toBe(401);
    const backwards = await statement(statementPdf, shop, alice.access, { date_after: '2025-02-01', date_before: '2025-01-01' }, 'pdf');
    expect([backwards.status, backwards.body]).toEqual([400, { date_before: ['Must not be before date_after.'] }]);
    const bad = await statement(statementXlsx, shop, alice.access, { date_after: '2025-02-30' });
    expect([bad.status, bad.body]).toEqual([400, { date_after: ['Enter a valid date.'] }]);
    const long = await statement(statementXlsx, shop, alice.access, { date_before: 'x'.repeat(10_000) });
    expect(long.status).toBe(400);
  });

  it(`refuses a period of more than STATEMENT_MAX_ROWS (${STATEMENT_MAX_ROWS}) entries with a 413 naming the limit, reading none`, async () => {
    const big = (await invoke(createBook, { method: 'POST', path: '/api/books/', token: alice.access, body: { name: 'Busy' } })).body.id;
    await adminQuery(
      `INSERT INTO transactions (user_id, book_id, type, amount, date) SELECT $1, $2, 'expense', 1, DATE '2025-06-01' + (i % 30)
       FROM generate_series(1, $3) AS i`,
      [alice.id, big, STATEMENT_MAX_ROWS + 1],
    );
    const { result: res, peak } = await peakConnections(() => statement(statementPdf, big, alice.access, { date_after: '2025-01-01', date_before: '2025-12-31' }, 'pdf'));
    expect(res.status).toBe(413);
    expect(res.body.detail).toBe(
      `This period holds ${STATEMENT_MAX_ROWS + 1} entries; a statement is limited to ${STATEMENT_MAX_ROWS} entries (STATEMENT_MAX_ROWS). ` +
        'Narrow the period with date_after and date_before.',
    );
    expect(peak).toBeLessThanOrEqual(1);
    // One day fewer is within the limit.
    const june = await statement(statementXlsx, big, alice.access, { date_after: '2025-06-02', date_before: '2025-06-30' });
    expect(june.status).toBe(200);
    expect(table(june).entries.length).toBeLessThanOrEqual(STATEMENT_MAX_ROWS);
    await expectNoAppConnections();
  });
});

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { handler as createBook } from '../../../functions/create-book.js';
import { handler as createTx } from '../../../functions/create-transaction.js';
import { handler as statementPdf } from '../../../functions/get-book-statement-pdf.js';
import { handler as statementXlsx } from '../../../functions/get-book-statement-xlsx.js';
import { handler as summary } from '../../../functions/get-transaction-summary.js';
import { handler as createTransfer } from '../../../functions/create-transfer.js';
import { signUp } from '../../support/accounts.js';
import { describeWith, PYTHON } from '../../support/components.js';
import { expectNoAppConnections, resetData } from '../../support/db.js';
import { invoke } from '../../support/events.js';

// The statements read by other programs than the tests' own readers, as the people who receive
// them do: poppler (pdftotext for the text, pdftoppm for a picture of the first page) and Python's
// openpyxl (the workbook's cells, as Excel files are read in scripts), their figures compared with
// the API's summary to the cent — with a transfer in the period, which a statement counts as money
// in or out of the book like any other entry.

type User = Awaited<ReturnType<typeof signUp>>;
let alice: User;
let cash: string;
let bank: string;
let dir: string;
const PERIOD = { date_after: '2025-03-01', date_before: '2025-03-31' };

const file = async (handler: unknown, kind: 'pdf' | 'xlsx', id = cash) => {
  const res = await invoke(handler, { path: `/api/books/${id}/statement.${kind}`, pathParameters: { id }, token: alice.access, query: PERIOD });
  expect(res.status).toBe(200);
  const path = join(dir, `statement.${kind}`);
  writeFileSync(path, Buffer.from(res.raw!, 'base64'));
  return path;
};

describeWith(['poppler', 'openpyxl'], 'statements read by poppler and openpyxl', () => {
  beforeAll(async () => {
    await resetData();
    dir = mkdtempSync(join(tmpdir(), 'cashbook-statement-'));
    alice = await signUp('alice');
    const book = async (name: string) =>
      (await invoke(createBook, { method: 'POST', path: '/api/books/', token: alice.access, body: { name, currency: 'INR' } })).body.id as string;
    cash = await book('Petty cash — März');
    bank = await book('Bank');
    const entries = [
      { type: 'income', amount: '250000.00', category: 'Sales', date: '2025-02-27', description: 'before the period' },
      { type: 'income', amount: '1234567.89', category: 'Sales', date: '2025-03-02', description: 'big sale' },
      { type: 'expense', amount: '999.99', category: 'Rent', date: '2025-03-05', description: 'rent' },
      { type: 'expense', amount: '0.01', category: 'Fees', date: '2025-03-31', description: 'last day' },
    ];
    for (const body of entries) {
      expect((await invoke(createTx, { method: 'POST', path: '/api/transactions/', token: alice.access, body: { ...body, book: cash } })).status).toBe(201);
    }
    const moved = await invoke(createTransfer, {
      method: 'POST',
      path: '/api/transfers/',
      token: alice.access,
      body: { from_book: cash, to_book: bank, amount: '100000.00', date: '2025-03-10', description: 'deposit' },
    });
    expect(moved.status).toBe(201);
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await expectNoAppConnections();
  });

  const sums = async () =>
    (await invoke(summary, { path: '/api/transactions/summary/', token: alice.access, query: { book: cash, date_from: PERIOD.date_after, date_to: PERIOD.date_before } })).body;

  it('pdftotext reads the header, the figures formatted for INR, and the page number', async () => {
    const text = execFileSync('pdftotext', ['-layout', await file(statementPdf, 'pdf'), '-'], { encoding: 'utf8' });
    const s = await sums();
    expect(text).toContain('Petty cash — März');
    expect(text).toContain('Currency INR');
    expect(text).toContain('2025-03-01 to 2025-03-31');
    expect(text).toContain('Page 1 of 1');
    // Lakh/crore grouping; the transfer's 1,00,000.00 is money out like any other entry.
    expect(s.total_income).toBe('1234567.89');
    expect(s.transfers_out).toBe('100000.00');
    expect(text).toMatch(/Opening balance\s+2,50,000\.00/);
    expect(text).toContain('12,34,567.89');
    expect(text).toContain('1,00,000.00');
    expect(text).toContain('1,01,000.00'); // out: 999.99 + 0.01 + the transfer
    expect(text).toContain('13,83,567.89'); // closing: 2,50,000 + 12,34,567.89 − 1,01,000.00
  });

  it('pdftoppm draws the first page', async () => {
    const pdf = await file(statementPdf, 'pdf');
    execFileSync('pdftoppm', ['-r', '40', '-png', '-f', '1', '-l', '1', '-singlefile', pdf, join(dir, 'page')]);
    const png = readFileSync(join(dir, 'page.png'));
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    // A4 at 40 dpi: 331 x 468 pixels.
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([331, 468]);
  });

  it('openpyxl reads dates as dates and amounts as numbers whose totals are the summary\'s', async () => {
    const path = await file(statementXlsx, 'xlsx');
    const script = `
import json, sys, datetime, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb["Statement"]
rows = [[c.value for c in r] for r in ws.iter_rows()]
dated = [r for r in rows if isinstance(r[0], datetime.datetime) and r[1] not in ("Opening balance", "Closing balance")]
totals = next(r for r in rows if isinstance(r[1], str) and r[1].startswith("Totals"))
closing = next(r for r in rows if r[1] == "Closing balance")
print(json.dumps({
  "sheets": wb.sheetnames,
  "freeze": ws.freeze_panes,
  "dates": [r[0].strftime("%Y-%m-%d") for r in dated],
  "numeric": all(isinstance(v, (int, float)) for r in dated for v in (r[4], r[5], r[6]) if v is not None),
  "in": round(sum(r[4] or 0 for r in dated), 2),
  "out": round(sum(r[5] or 0 for r in dated), 2),
  "totals": [totals[4], totals[5]],
  "last_balance": dated[-1][6],
  "closing": closing[6],
}))`;
    const run = spawnSync(PYTHON, ['-c', script, path], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const read = JSON.parse(run.stdout);
    const s = await sums();
    expect(read.sheets).toEqual(['Statement', 'By category']);
    expect(read.freeze).toMatch(/^A\d+$/);
    expect(read.dates).toEqual(['2025-03-02', '2025-03-05', '2025-03-10', '2025-03-31']);
    expect(read.numeric).toBe(true);
    expect(read.in.toFixed(2)).toBe((Number(s.total_income) + Number(s.transfers_in)).toFixed(2));
    expect(read.out.toFixed(2)).toBe((Number(s.total_expense) + Number(s.transfers_out)).toFixed(2));
    expect(read.totals.map((n: number) => n.toFixed(2))).toEqual([read.in.toFixed(2), read.out.toFixed(2)]);
    expect(read.last_balance.toFixed(2)).toBe('1383567.89');
    expect(read.closing.toFixed(2)).toBe('1383567.89');
  });
});

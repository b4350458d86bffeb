import { describe, expect, it } from 'vitest';
import { renderPdf } from '../../../lib/statements/pdf.js';
import { buildStatement, type StatementEntryRow, type StatementRows } from '../../../lib/statements/statement.js';
import { lineOf, readPdf } from '../../support/statements.js';

// The PDF read back by pdf-lib (structure, pages, streams) and its text from the content streams.

const entries = (count: number): StatementEntryRow[] =>
  Array.from({ length: count }, (_, i) => ({
    date: `2025-01-${String((i % 28) + 1).padStart(2, '0')}`,
    type: i % 3 === 0 ? 'income' : 'expense',
    amount: i % 3 === 0 ? '1000.00' : '12.34',
    category: i % 2 ? 'Food' : 'Salary',
    description: `Entry ${i}`,
    payment_mode: 'cash',
  }));

const rows = (overrides: Partial<StatementRows> = {}): StatementRows => ({
  book: { name: 'Household (main)', currency: 'INR' },
  period: { from: '2025-01-01', to: '2025-01-31' },
  opening: '100000.00',
  entries: entries(3),
  ...overrides,
});

describe('renderPdf', () => {
  it('writes a PDF that another parser reads: one A4 page, the book as its title', async () => {
    const bytes = renderPdf(buildStatement(rows()));
    expect(Buffer.from(bytes.subarray(0, 8)).toString('latin1')).toBe('%PDF-1.4');
    const pdf = await readPdf(bytes);
    expect(pdf.pages).toBe(1);
    expect(pdf.title).toBe('Household (main)');
  });

  it('shows the book, currency, period, the four figures up front, opening balance, every entry with its balance, totals and closing balance', async () => {
    const { texts } = await readPdf(renderPdf(buildStatement(rows())));
    const all = texts.map((t) => t.text);
    expect(all).toContain('Household (main)');
    expect(all).toContain('Currency INR  \u00b7  Period: 2025-01-01 to 2025-01-31');
    // First the four figures, then the same in the table.
    const labels = lineOf(texts, texts.find((t) => t.text === 'Total in')!).map((t) => t.text);
    expect(labels).toEqual(['Opening balance', 'Total in', 'Total out', 'Closing balance']);
    const figures = lineOf(texts, texts.find((t) => t.text === '1,00,000.00' && t.size === 11)!).map((t) => t.text);
    expect(figures).toEqual(['1,00,000.00', '1,000.00', '24.68', '1,00,975.32']);
    const opening = lineOf(texts, texts.find((t) => t.text === 'Opening balance' && t.size === 8.5)!).map((t) => t.text);
    expect(opening).toEqual(['Opening balance', '1,00,000.00']);
    const first = lineOf(texts, texts.find((t) => t.text === 'Entry 0')!).map((t) => t.text);
    expect(first).toEqual(['2025-01-01', 'Entry 0', 'Salary', '1,000.00', '1,01,000.00']);
    const second = lineOf(texts, texts.find((t) => t.text === 'Entry 1')!).map((t) => t.text);
    expect(second).toEqual(['2025-01-02', 'Entry 1', 'Food', '12.34', '1,00,987.66']);
    const totals = lineOf(texts, texts.find((t) => t.text === 'Totals (3 entries)')!).map((t) => t.text);
    expect(totals).toEqual(['Totals (3 entries)', '1,000.00', '24.68']);
    const closing = lineOf(texts, texts.find((t) => t.text === 'Closing balance' && t.size === 8.5)!).map((t) => t.text);
    expect(closing).toEqual(['Closing balance', '1,00,975.32']);
    const food = lineOf(texts, texts.filter((t) => t.text === 'Food').at(-1)!).map((t) => t.text);
    expect(food).toEqual(['Food', '1', '0.00', '12.34', '-12.34']);
    const salary = lineOf(texts, texts.filter((t) => t.text === 'Salary').at(-1)!).map((t) => t.text);
    expect(salary).toEqual(['Salary', '2', '1,000.00', '12.34', '987.66']);
  });

  it('right-aligns amounts: every balance ends at the same x', async () => {
    const { texts } = await readPdf(renderPdf(buildStatement(rows({ entries: entries(40) }))));
    const balances = texts.filter((t) => /^[\d,]+\.\d\d$/.test(t.text) && t.x > 450);
    expect(balances.length).toBeGreaterThan(40);
    const rights = new Set(balances.map((t) => t.right.toFixed(1)));
    expect(rights.size).toBe(1);
  });

  it('paginates: each page repeats the header and column titles and says "Page n of N"', async () => {
    const { pages, texts } = await readPdf(renderPdf(buildStatement(rows({ entries: entries(400) }))));
    expect(pages).toBeGreaterThan(5);
    for (let page = 1; page <= pages; page++) {
      const on = texts.filter((t) => t.page === page).map((t) => t.text);
      expect(on, `page ${page}`).toContain('Household (main)');
      expect(on, `page ${page}`).toContain(`Page ${page} of ${pages}`);
      expect(on.filter((t) => t === 'Category').length, `page ${page}`).toBeGreaterThanOrEqual(1);
    }
    // Every entry once, in order, none lost at a page break.
    const shown = texts.filter((t) => /^Entry \d+$/.test(t.text)).map((t) => Number(t.text.slice(6)));
    expect(shown).toEqual(Array.from({ length: 400 }, (_, i) => i));
  });

  it('keeps text inside its column (an ellipsis), escapes PDF delimiters, and shows "?" for what the fonts lack', async () => {
    const long = { ...entries(1)[0]!, description: `(a) \\ ${'x'.repeat(300)}` };
    const odd = { ...entries(1)[0]!, description: 'Café — “quoted” ₹ 漢字' };
    const { texts } = await readPdf(renderPdf(buildStatement(rows({ entries: [long, odd] }))));
    const cut = texts.find((t) => t.text.startsWith('(a) \\ x'))!;
    expect(cut.text.endsWith('\u2026')).toBe(true);
    const category = texts.find((t) => t.page === cut.page && Math.abs(t.y - cut.y) < 0.01 && t.text === 'Salary')!;
    expect(cut.right).toBeLessThan(category.x);
    expect(texts.map((t) => t.text)).toContain('Café — “quoted” ? ??');
  });

  it('handles an empty period (opening = closing) and a book without dates in its period', async () => {
    const { pages, texts } = await readPdf(renderPdf(buildStatement(rows({ entries: [], period: { from: null, to: null } }))));
    expect(pages).toBe(1);
    expect(texts.map((t) => t.text)).toContain('Currency INR  \u00b7  Period: all entries');
    expect(lineOf(texts, texts.find((t) => t.text === 'Closing balance' && t.size === 8.5)!).map((t) => t.text)).toEqual(['Closing balance', '1,00,000.00']);
  });

  it('never leaves a table\'s column titles without a row under them, wherever the page breaks fall', async () => {
    for (let count = 40; count <= 130; count += 3) {
      const { pages, texts } = await readPdf(renderPdf(buildStatement(rows({ entries: entries(count) }))));
      for (let page = 1; page <= pages; page++) {
        const on = texts.filter((t) => t.page === page);
        for (const title of on.filter((t) => t.bold && (t.text === 'Date' || (t.text === 'Category' && t.x < 50)))) {
          // The first line under the titles (above the footer) is a row of that table.
          const y = Math.max(...on.filter((t) => t.y < title.y - 1 && t.y > 60).map((t) => t.y));
          const next = on.filter((t) => Math.abs(t.y - y) < 0.01).map((t) => t.text);
          const ok = title.text === 'Date'
            ? next.some((t) => /^\d{4}-\d\d-\d\d$/.test(t) || t === 'Opening balance' || t.startsWith('Totals ('))
            : next.some((t) => t === 'Salary' || t === 'Food');
          expect(ok, `${count} entries, page ${page}: "${title.text}" titles followed by ${JSON.stringify(next)}`).toBe(true);
        }
      }
    }
  });
});

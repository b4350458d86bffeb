import { describe, expect, it } from 'vitest';
import { buildStatement, type StatementRows } from '../../../lib/statements/statement.js';
import { excelDate, renderXlsx } from '../../../lib/statements/xlsx.js';
import { byColumn, readXlsx } from '../../support/statements.js';

// The workbook unzipped by fflate (not the writer's own zip code) and its XML read back: cell
// types, values and number formats, as Excel would interpret them.

const rows = (overrides: Partial<StatementRows> = {}): StatementRows => ({
  book: { name: 'Shop & Co <main>', currency: 'INR' },
  period: { from: '2025-03-01', to: '2025-03-31' },
  opening: '-250.50',
  entries: [
    { date: '2025-03-01', type: 'income', amount: '1000.00', category: 'Sales', description: '=HYPERLINK("http://x")', payment_mode: 'upi' },
    { date: '2025-03-02', type: 'expense', amount: '99.99', category: 'Stock', description: 'Tea \u0001 “leaves” 漢字 💸', payment_mode: 'cash' },
    { date: '2025-03-31', type: 'expense', amount: '9999999999.99', category: 'Sales', description: '', payment_mode: 'bank' },
  ],
  ...overrides,
});

describe('excelDate', () => {
  it("counts days as Excel's 1900 date system does", () => {
    expect(excelDate('1900-03-01')).toBe(61);
    expect(excelDate('2025-01-01')).toBe(45658);
    expect(excelDate('9999-12-31')).toBe(2958465);
  });
});

describe('renderXlsx', () => {
  const book = readXlsx(renderXlsx(buildStatement(rows())));
  const [statement, categories] = book.sheets;

  it('is a workbook of two sheets with the parts Excel needs', () => {
    expect(Object.keys(book.files).sort()).toEqual(
      ['[Content_Types].xml', '_rels/.rels', 'xl/_rels/workbook.xml.rels', 'xl/styles.xml', 'xl/workbook.xml', 'xl/worksheets/sheet1.xml', 'xl/worksheets/sheet2.xml'].sort(),
    );
    expect(book.sheets.map((s) => s.name)).toEqual(['Statement', 'By category']);
  });

  it('heads the sheet with the book, currency and period, and freezes the header row of the table', () => {
    expect(statement!.rows[0]![0]!.value).toBe('Shop & Co <main>');
    expect(statement!.rows[1]!.map((c) => c.value)).toEqual(['Currency', 'INR', 'Period', '2025-03-01 to 2025-03-31']);
    const header = statement!.rows[4]!;
    expect(header.map((c) => c.value)).toEqual(['Date', 'Description', 'Category', 'Payment mode', 'In', 'Out', 'Balance']);
    expect(header[0]!.ref).toBe('A5');
    expect(statement!.xml).toContain('<pane ySplit="5" topLeftCell="A6" activePane="bottomLeft" state="frozen"/>');
    expect(categories!.xml).toContain('<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>');
  });

  it('writes dates as date cells and amounts as numbers with the currency\'s format, balances running', () => {
    const [opening, first, second, third, totals, closing] = statement!.rows.slice(5).map(byColumn);
    expect(opening!.B!.value).toBe('Opening balance');
    expect(opening!.G).toMatchObject({ type: 'n', value: '-250.50' });
    expect(first!.A).toMatchObject({ type: 'n', value: String(excelDate('2025-03-01')) });
    expect(book.formats[first!.A!.style]).toBe('yyyy\\-mm\\-dd');
    expect(first!.E).toMatchObject({ type: 'n', value: '1000.00' });
    expect(book.formats[first!.E!.style]).toBe('#,##0.00');
    expect(first!.F).toBeUndefined();
    expect(first!.G!.value).toBe('749.50');
    expect(second!.F).toMatchObject({ type: 'n', value: '99.99' });
    expect(second!.G!.value).toBe('649.51');
    expect(third!.G!.value).toBe('-9999999350.48');
    expect(totals!.E!.value).toBe('1000.00');
    expect(totals!.F!.value).toBe('10000000099.98');
    expect(closing!.G!.value).toBe('-9999999350.48');
    expect(book.formats[closing!.A!.style]).toBe('yyyy\\-mm\\-dd');
  });

  it('keeps text as text: a formula-looking description is a string, control characters are dropped', () => {
    const [, first, second] = statement!.rows.slice(5).map(byColumn);
    expect(first!.B).toMatchObject({ type: 'inlineStr', value: '=HYPERLINK("http://x")' });
    expect(first!.D!.value).toBe('upi');
    expect(second!.B!.value).toBe('Tea  “leaves” 漢字 💸');
    expect(statement!.xml).not.toContain('<f>');
  });

  it('totals per category and overall on the second sheet', () => {
    const cells = categories!.rows.map((r) => r.map((c) => c.value));
    expect(cells.slice(0, 4)).toEqual([
      ['Category', 'Entries', 'In', 'Out', 'Net'],
      ['Sales', '2', '1000.00', '9999999999.99', '-9999998999.99'],
      ['Stock', '1', '0.00', '99.99', '-99.99'],
      ['Total', '3', '1000.00', '10000000099.98', '-9999999099.98'],
    ]);
    expect(categories!.rows[1]![1]!.type).toBe('n');
  });

  it('formats a currency without decimals accordingly, and an open period with dashes', () => {
    const yen = readXlsx(renderXlsx(buildStatement(rows({ book: { name: 'JP', currency: 'JPY' }, period: { from: null, to: null }, opening: '0.00' }))));
    const money = yen.sheets[0]!.rows.slice(5).map(byColumn)[1]!.E!;
    expect(yen.formats[money.style]).toBe('#,##0');
    expect(yen.sheets[0]!.rows[2]!.map((c) => c.value)).toEqual(['From', '—', 'To', '—']);
  });
});

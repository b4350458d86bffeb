import { currencyDigits } from './format.js';
import { fromCents, periodText, type Statement } from './statement.js';
import { zip } from './zip.js';

// A statement as an Excel workbook (Office Open XML SpreadsheetML), written directly: the seven
// XML parts of a minimal workbook, zipped (lib/statements/zip.ts). Pure: plain data in, bytes out.
//
// Sheet "Statement": the book, currency and period, then the entries table under a frozen
// header row: Date (a real date cell, shown yyyy-mm-dd), Description, Category, Payment mode,
// In, Out, Balance (numbers formatted with the currency's decimals) — the opening balance
// first, the totals and the closing balance last. Sheet "By category": the totals per
// category, and the statement's totals. Amounts are numeric cells holding the exact decimal
// (Excel keeps 15 significant digits: exact to the cent below 10^13); text is inline strings, so
// a description such as "=1+1" is text, never a formula.

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PKG_REL_NS = 'http://schemas.openxmlformats.org/package/2006/relationships';

/** Style indexes into styles.xml's cellXfs. */
const S = { text: 0, date: 1, money: 2, bold: 3, boldMoney: 4, header: 5, count: 6, title: 7 } as const;

/** Excel's serial day number of a YYYY-MM-DD date (1900 date system: day 0 is 1899-12-30). */
export function excelDate(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const utc = new Date(0);
  utc.setUTCFullYear(y, m - 1, d);
  return Math.round(utc.getTime() / 86_400_000) + 25_569;
}

/** XML text: escaped, without the characters XML 1.0 forbids (control characters, lone surrogates). */
function xmlText(value: string): string {
  return value
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '')
    .replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

const COLUMN_LETTERS = 'ABCDEFGHIJ';

type Cell =
  | { text: string; style?: number }
  | { number: string | number; style?: number }
  | null;

const t = (text: string, style?: number): Cell => ({ text, style });
const n = (number: string | number, style?: number): Cell => ({ number, style });

class Sheet {
  /** Rows not yet in `chunks`. */
  private pending: string[] = [];
  /** UTF-8 of the rows so far, a few thousand rows a chunk: one JS string of 100,000 rows would be ~100 MB. */
  private chunks: Buffer[] = [];
  length = 0;

  row(cells: Cell[]) {
    const r = ++this.length;
    let xml = `<row r="${r}">`;
    cells.forEach((cell, i) => {
      if (!cell) return;
      const ref = `${COLUMN_LETTERS[i]}${r}`;
      const style = cell.style ? ` s="${cell.style}"` : '';
      if ('text' in cell) xml += `<c r="${ref}"${style} t="inlineStr"><is><t xml:space="preserve">${xmlText(cell.text)}</t></is></c>`;
      else xml += `<c r="${ref}"${style}><v>${cell.number}</v></c>`;
    });
    this.pending.push(`${xml}</row>`);
    if (this.pending.length >= 2_000) this.flush();
  }

  private flush() {
    this.chunks.push(Buffer.from(this.pending.join(''), 'utf8'));
    this.pending = [];
  }

  xml({ widths, frozenRows }: { widths: number[]; frozenRows?: number }): Buffer {
    this.flush();
    const pane = frozenRows
      ? `<sheetViews><sheetView workbookViewId="0"><pane ySplit="${frozenRows}" topLeftCell="A${frozenRows + 1}" activePane="bottomLeft" state="frozen"/>` +
        `<selection pane="bottomLeft" activeCell="A${frozenRows + 1}" sqref="A${frozenRows + 1}"/></sheetView></sheetViews>`
      : '<sheetViews><sheetView workbookViewId="0"/></sheetViews>';
    const cols = widths.map((w, i) => `<col min="${i + 1}" max="${i + 1}" width="${w}" customWidth="1"/>`).join('');
    const head =
      `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="${NS}" xmlns:r="${REL_NS}">` +
      `${pane}<sheetFormatPr defaultRowHeight="15"/><cols>${cols}</cols><sheetData>`;
    return Buffer.concat([Buffer.from(head, 'utf8'), ...this.chunks, Buffer.from('</sheetData></worksheet>', 'utf8')]);
  }
}

/** Number format of amounts: the currency's decimals, grouped thousands. */
function moneyFormat(currency: string): string {
  const digits = currencyDigits(currency);
  return digits === 0 ? '#,##0' : `#,##0.${'0'.repeat(digits)}`;
}

function stylesXml(currency: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="${NS}">` +
    `<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/><numFmt numFmtId="165" formatCode="${xmlText(moneyFormat(currency))}"/></numFmts>` +
    '<fonts count="3"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>' +
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>' +
    '<font><b/><sz val="14"/><name val="Calibri"/><family val="2"/></font></fonts>' +
    '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>' +
    '<fill><patternFill patternType="solid"><fgColor rgb="FFE7E6E6"/><bgColor indexed="64"/></patternFill></fill></fills>' +
    '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>' +
    '<border><left/><right/><top/><bottom style="thin"><color auto="1"/></bottom><diagonal/></border></borders>' +
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
    '<cellXfs count="8">' +
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' + // text
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' + // date
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' + // money
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>' + // bold
    '<xf numFmtId="165" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/>' + // bold money
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1"/>' + // header
    '<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' + // count
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>' + // title
    '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
  );
}

const money = (cents: bigint, style: number = S.money): Cell => n(fromCents(cents), style);
const date = (value: string | null): Cell => (value ? n(excelDate(value), S.date) : t('—'));

export function renderXlsx(statement: Statement): Uint8Array {
  const entries = new Sheet();
  entries.row([t(statement.book.name, S.title)]);
  entries.row([t('Currency', S.bold), t(statement.book.currency), t('Period', S.bold), t(periodText(statement.period))]);
  entries.row([t('From', S.bold), date(statement.period.from), t('To', S.bold), date(statement.period.to)]);
  entries.row([]);
  const header = ['Date', 'Description', 'Category', 'Payment mode', 'In', 'Out', 'Balance'];
  entries.row(header.map((h) => t(h, S.header)));
  const frozenRows = entries.length;
  entries.row([date(statement.period.from), t('Opening balance', S.bold), null, null, null, null, money(statement.opening, S.boldMoney)]);
  for (const e of statement.entries) {
    entries.row([
      n(excelDate(e.date), S.date),
      t(e.description),
      t(e.category),
      t(e.payment_mode),
      e.type === 'income' ? money(e.amount) : null,
      e.type === 'expense' ? money(e.amount) : null,
      money(e.balance),
    ]);
  }
  entries.row([null, t(`Totals (${statement.entries.length} entries)`, S.bold), null, null, money(statement.totalIn, S.boldMoney), money(statement.totalOut, S.boldMoney)]);
  entries.row([date(statement.period.to), t('Closing balance', S.bold), null, null, null, null, money(statement.closing, S.boldMoney)]);

  const categories = new Sheet();
  categories.row(['Category', 'Entries', 'In', 'Out', 'Net'].map((h) => t(h, S.header)));
  for (const c of statement.byCategory) {
    categories.row([t(c.category), n(c.entries, S.count), money(c.income), money(c.expense), money(c.income - c.expense)]);
  }
  categories.row([
    t('Total', S.bold),
    n(statement.entries.length, S.count),
    money(statement.totalIn, S.boldMoney),
    money(statement.totalOut, S.boldMoney),
    money(statement.totalIn - statement.totalOut, S.boldMoney),
  ]);
  categories.row([]);
  categories.row([t('Opening balance', S.bold), null, null, null, money(statement.opening, S.boldMoney)]);
  categories.row([t('Closing balance', S.bold), null, null, null, money(statement.closing, S.boldMoney)]);

  const xml = (body: string) => Buffer.from(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n${body}`);
  const sheetPart = (i: number) => `<Override PartName="/xl/worksheets/sheet${i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`;
  return zip([
      ['[Content_Types].xml', xml(
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
          '<Default Extension="xml" ContentType="application/xml"/>' +
          '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
          `${sheetPart(1)}${sheetPart(2)}` +
          '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>' +
          '</Types>',
      )],
      ['_rels/.rels', xml(
        `<Relationships xmlns="${PKG_REL_NS}"><Relationship Id="rId1" Type="${REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
      )],
      ['xl/workbook.xml', xml(
        `<workbook xmlns="${NS}" xmlns:r="${REL_NS}"><sheets>` +
          '<sheet name="Statement" sheetId="1" r:id="rId1"/><sheet name="By category" sheetId="2" r:id="rId2"/></sheets></workbook>',
      )],
      ['xl/_rels/workbook.xml.rels', xml(
        `<Relationships xmlns="${PKG_REL_NS}">` +
          `<Relationship Id="rId1" Type="${REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>` +
          `<Relationship Id="rId2" Type="${REL_NS}/worksheet" Target="worksheets/sheet2.xml"/>` +
          `<Relationship Id="rId3" Type="${REL_NS}/styles" Target="styles.xml"/></Relationships>`,
      )],
      ['xl/styles.xml', Buffer.from(stylesXml(statement.book.currency), 'utf8')],
      ['xl/worksheets/sheet1.xml', entries.xml({ widths: [12, 40, 18, 14, 14, 14, 16], frozenRows })],
      ['xl/worksheets/sheet2.xml', categories.xml({ widths: [24, 10, 14, 14, 16], frozenRows: 1 })],
  ]);
}

import { deflateSync } from 'node:zlib';
import { HELVETICA, HELVETICA_BOLD, WIN_ANSI_EXTRA } from './fonts.js';
import { amountFormatter } from './format.js';
import { periodText, type Statement } from './statement.js';

// A statement as a PDF, written directly (PDF 1.4): A4 pages of text and rules in the standard
// Helvetica fonts (not embedded: every reader has them), each content stream deflated. No PDF
// library: the layout is a table, and a writer of ~200 lines renders 100,000 rows in about a
// second with a few tens of MB (docs/api.md, "Statements"), where a general-purpose library
// builds an object per operator. Pure: plain data in, bytes out, no I/O.
//
// Every page repeats the book's header and the table's column titles; the footer numbers pages
// "Page n of N". Amounts are right-aligned (their width is measured with the fonts' metrics)
// and formatted for the book's currency. Text outside WinAnsiEncoding (Latin-1 plus € and
// typographic quotes and dashes) is shown as "?": the standard fonts have no other glyphs.

const PAGE_WIDTH = 595.28; // A4, in points
const PAGE_HEIGHT = 841.89;
const MARGIN = 40;
const BODY_SIZE = 8.5;
const ROW_HEIGHT = 12.5;
const TOP = PAGE_HEIGHT - MARGIN;
/** Below the page header (book, period, column titles). */
const TABLE_TOP = TOP - 58;
const BOTTOM = MARGIN + 24;

type Font = 'F1' | 'F2';
const WIDTHS: Record<Font, number[]> = { F1: HELVETICA, F2: HELVETICA_BOLD };

interface Column {
  title: string;
  width: number;
  right?: boolean;
}

const ENTRY_COLUMNS: Column[] = [
  { title: 'Date', width: 56 },
  { title: 'Description', width: 150 },
  { title: 'Category', width: 80 },
  { title: 'In', width: 72, right: true },
  { title: 'Out', width: 72, right: true },
  { title: 'Balance', width: 85.28, right: true },
];
const CATEGORY_COLUMNS: Column[] = [
  { title: 'Category', width: 206 },
  { title: 'Entries', width: 80, right: true },
  { title: 'In', width: 72, right: true },
  { title: 'Out', width: 72, right: true },
  { title: 'Net', width: 85.28, right: true },
];
const CELL_PAD = 3;

/** One WinAnsi byte per character (as a latin1 string); "?" for what the encoding lacks. */
function winAnsi(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 32 && cp <= 126) out += ch;
    else if (cp >= 160 && cp <= 255) out += ch;
    else if (WIN_ANSI_EXTRA.has(cp)) out += String.fromCharCode(WIN_ANSI_EXTRA.get(cp)!);
    else if (cp === 9 || cp === 10 || cp === 13) out += ' ';
    else out += '?';
  }
  return out;
}

/** Width in points of WinAnsi text. */
function measure(encoded: string, font: Font, size: number): number {
  const widths = WIDTHS[font];
  let units = 0;
  for (let i = 0; i < encoded.length; i++) units += widths[encoded.charCodeAt(i) - 32] ?? 556;
  return (units * size) / 1000;
}

const ELLIPSIS = '\u0085'; // … in WinAnsi

/** Cut to `width` with an ellipsis. */
function fit(encoded: string, font: Font, size: number, width: number): string {
  if (measure(encoded, font, size) <= width) return encoded;
  const widths = WIDTHS[font];
  const target = ((width - measure(ELLIPSIS, font, size)) * 1000) / size;
  let units = 0;
  let end = 0;
  while (end < encoded.length) {
    units += widths[encoded.charCodeAt(end) - 32] ?? 556;
    if (units > target) break;
    end++;
  }
  return encoded.slice(0, end) + ELLIPSIS;
}

const escape = (encoded: string) => encoded.replace(/[\\()]/g, (c) => `\\${c}`);
const num = (n: number) => (Math.round(n * 100) / 100).toString();

/** One page's content stream, as operators (latin1). */
class Page {
  private text: string[] = [];
  private graphics: string[] = [];

  /** Text at (x, y): left-aligned, or right-aligned to x. */
  show(value: string, x: number, y: number, { font = 'F1', size = BODY_SIZE, right = false, width }: { font?: Font; size?: number; right?: boolean; width?: number } = {}) {
    // No glyph is narrower than 0.19 em: past that many characters the rest cannot show.
    const visible = width === undefined ? value : value.slice(0, Math.ceil(width / (size * 0.19)) + 2);
    let encoded = winAnsi(visible);
    if (width !== undefined) encoded = fit(encoded, font, size, width);
    const left = right ? x - measure(encoded, font, size) : x;
    this.text.push(`/${font} ${size} Tf 1 0 0 1 ${num(left)} ${num(y)} Tm (${escape(encoded)}) Tj`);
  }

  rule(x1: number, y: number, x2: number, weight = 0.5) {
    this.graphics.push(`${weight} w ${num(x1)} ${num(y)} m ${num(x2)} ${num(y)} l S`);
  }

  shade(x: number, y: number, width: number, height: number) {
    this.graphics.push(`0.94 g ${num(x)} ${num(y)} ${num(width)} ${num(height)} re f 0 g`);
  }

  content(): string {
    return `${this.graphics.join('\n')}\nBT\n${this.text.join('\n')}\nET\n`;
  }
}

interface Layout {
  pages: Page[];
  page: Page;
  y: number;
  columns: Column[];
}

export function renderPdf(statement: Statement): Uint8Array {
  const money = amountFormatter(statement.book.currency);
  const period = periodText(statement.period);
  const layout: Layout = { pages: [], page: new Page(), y: 0, columns: ENTRY_COLUMNS };

  /** `titles`: repeat the column titles of the table being drawn (the entries', or the categories'). */
  const newPage = (titles = true) => {
    layout.page = new Page();
    layout.pages.push(layout.page);
    pageHeader(layout.page, statement, period);
    layout.y = TABLE_TOP;
    if (layout.pages.length === 1) summary();
    if (titles) columnTitles();
  };

  /** First page: the four figures a reader looks for, before the detail. */
  const summary = () => {
    const figures: Array<[string, bigint]> = [
      ['Opening balance', statement.opening],
      ['Total in', statement.totalIn],
      ['Total out', statement.totalOut],
      ['Closing balance', statement.closing],
    ];
    const width = (PAGE_WIDTH - 2 * MARGIN) / figures.length;
    figures.forEach(([label, cents], i) => {
      const right = MARGIN + (i + 1) * width - CELL_PAD;
      layout.page.show(label, right, layout.y + 4, { size: 8, right: true });
      layout.page.show(money(cents), right, layout.y - 9, { font: 'F2', size: 11, right: true });
    });
    layout.page.rule(MARGIN, layout.y - 17, PAGE_WIDTH - MARGIN);
    layout.y -= 2.6 * ROW_HEIGHT + 6;
  };

  const columnTitles = () => {
    cells(layout.columns.map((c) => c.title), { font: 'F2' });
    layout.page.rule(MARGIN, layout.y + ROW_HEIGHT - 3.5, PAGE_WIDTH - MARGIN);
  };

  /** A row of cells at the current line; moves down one line. */
  const cells = (values: string[], { font = 'F1' as Font, shade = false } = {}) => {
    if (shade) layout.page.shade(MARGIN, layout.y - 3.5, PAGE_WIDTH - 2 * MARGIN, ROW_HEIGHT);
    let x = MARGIN;
    layout.columns.forEach((column, i) => {
      const value = values[i] ?? '';
      if (value) {
        const inner = column.width - 2 * CELL_PAD;
        layout.page.show(value, column.right ? x + column.width - CELL_PAD : x + CELL_PAD, layout.y, { font, right: column.right, width: inner });
      }
      x += column.width;
    });
    layout.y -= ROW_HEIGHT;
  };

  /** A row, on a new page when this one is full. */
  const row = (values: string[], options?: { font?: Font; shade?: boolean }) => {
    if (layout.y < BOTTOM) newPage();
    cells(values, options);
  };

  const gap = (lines: number) => {
    layout.y -= ROW_HEIGHT * lines;
  };

  newPage();
  row(['', 'Opening balance', '', '', '', money(statement.opening)], { font: 'F2' });
  statement.entries.forEach((e, i) => {
    const amount = money(e.amount);
    row(
      [e.date, e.description, e.category, e.type === 'income' ? amount : '', e.type === 'expense' ? amount : '', money(e.balance)],
      { shade: i % 2 === 1 },
    );
  });
  if (layout.y < BOTTOM + ROW_HEIGHT) newPage();
  layout.page.rule(MARGIN, layout.y + ROW_HEIGHT - 3.5, PAGE_WIDTH - MARGIN);
  row(['', `Totals (${statement.entries.length} entries)`, '', money(statement.totalIn), money(statement.totalOut), ''], { font: 'F2' });
  row(['', 'Closing balance', '', '', '', money(statement.closing)], { font: 'F2' });

  // By category: its heading and column titles, on this page when they and a few rows fit.
  gap(1.5);
  layout.columns = CATEGORY_COLUMNS;
  if (layout.y < BOTTOM + 3 * ROW_HEIGHT) newPage(false);
  layout.page.show('By category', MARGIN, layout.y, { font: 'F2', size: 10.5 });
  gap(1.6);
  columnTitles();
  statement.byCategory.forEach((c, i) => {
    row([c.category || '(none)', String(c.entries), money(c.income), money(c.expense), money(c.income - c.expense)], { shade: i % 2 === 1 });
  });

  return serialise(layout.pages, statement.book.name);
}

/** Every page: the book's name, the currency and the period. */
function pageHeader(page: Page, statement: Statement, period: string) {
  page.show(statement.book.name, MARGIN, TOP - 12, { font: 'F2', size: 14, width: PAGE_WIDTH - 2 * MARGIN - 120 });
  page.show('Statement', PAGE_WIDTH - MARGIN, TOP - 12, { font: 'F2', size: 11, right: true });
  page.show(`Currency ${statement.book.currency}  \u00b7  Period: ${period}`, MARGIN, TOP - 28, { size: 9.5 });
  page.rule(MARGIN, TOP - 36, PAGE_WIDTH - MARGIN, 1);
}

/** PDF text string (UTF-16BE with BOM) for the document's title: any Unicode. */
function textString(value: string): string {
  let hex = 'FEFF';
  for (let i = 0; i < value.length; i++) hex += value.charCodeAt(i).toString(16).padStart(4, '0').toUpperCase();
  return `<${hex}>`;
}

/** The file: catalog, page tree, two fonts, then each page and its deflated content stream; xref; trailer. */
function serialise(pages: Page[], title: string): Uint8Array {
  const chunks: Uint8Array[] = [];
  const offsets: number[] = [];
  let length = 0;
  const write = (part: string | Uint8Array) => {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'latin1') : part;
    chunks.push(bytes);
    length += bytes.length;
  };
  const object = (id: number, body: string | Uint8Array[]) => {
    offsets[id] = length;
    write(`${id} 0 obj\n`);
    if (typeof body === 'string') write(body);
    else body.forEach(write);
    write('\nendobj\n');
  };

  const firstPage = 6;
  const kids = pages.map((_, i) => `${firstPage + 2 * i} 0 R`).join(' ');
  write('%PDF-1.4\n%\u00e2\u00e3\u00cf\u00d3\n');
  object(1, '<< /Type /Catalog /Pages 2 0 R >>');
  object(2, `<< /Type /Pages /Count ${pages.length} /Kids [${kids}] >>`);
  object(3, '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  object(4, '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>');
  object(5, `<< /Title ${textString(title.slice(0, 200))} /Producer (Cashbook API) >>`);
  pages.forEach((page, i) => {
    const id = firstPage + 2 * i;
    page.show(`Page ${i + 1} of ${pages.length}`, PAGE_WIDTH - MARGIN, MARGIN, { size: 8, right: true });
    object(
      id,
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${PAGE_WIDTH} ${PAGE_HEIGHT}] ` +
        `/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents ${id + 1} 0 R >>`,
    );
    const stream = deflateSync(Buffer.from(page.content(), 'latin1'), { level: 6 });
    object(id + 1, [Buffer.from(`<< /Length ${stream.length} /Filter /FlateDecode >>\nstream\n`, 'latin1'), stream, Buffer.from('\nendstream', 'latin1')]);
  });
  const count = firstPage + 2 * pages.length;
  const xref = length;
  let table = `xref\n0 ${count}\n0000000000 65535 f \n`;
  for (let id = 1; id < count; id++) table += `${String(offsets[id]).padStart(10, '0')} 00000 n \n`;
  write(table);
  write(`trailer\n<< /Size ${count} /Root 1 0 R /Info 5 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  return Buffer.concat(chunks);
}

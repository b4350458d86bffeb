// RFC 4180 CSV: CRLF line ends; a field with a comma, quote, CR or LF is quoted, quotes doubled.

// What makes a spreadsheet read a cell as a formula: = + - @ (also their full-width forms,
// which Excel in East Asian locales converts), or a leading tab/CR before one of them.
const TRIGGER = '=+\\-@\\t\\r\\uFF1D\\uFF0B\\uFF0D\\uFF20';
// Spreadsheets trim a cell's leading spaces (and tabs, no-break and ideographic spaces) before
// they look for a formula sign, so "  =1+1" runs like "=1+1". Quotes as after a ";" below.
const AT_START = new RegExp(`^[\\s"]*[${TRIGGER}]`);
// Locales whose list separator is ";" (most of Europe) split the whole line on it, quotes
// notwithstanding, so every piece after a ";" (after optional spaces and quotes) starts a cell.
const AFTER_SEMICOLON = new RegExp(`;(?=[\\s"]*[${TRIGGER}])`, 'g');

/** Text a spreadsheet would run as a formula gets a ' before it, at the start and after any ";". */
export function neutralise(text: string): string {
  const inner = text.replace(AFTER_SEMICOLON, ";'");
  return AT_START.test(inner) ? `'${inner}` : inner;
}

export function quote(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

export interface Cell {
  value: string;
  /** Numbers, dates and ids are written as they are; user text is neutralised. */
  text?: boolean;
}

export function csvLine(cells: readonly Cell[]): string {
  return `${cells.map((c) => quote(c.text ? neutralise(c.value) : c.value)).join(',')}\r\n`;
}

/** Parses RFC 4180 text (CRLF or LF) into rows of fields; used by the user import. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

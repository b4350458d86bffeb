import { describe, expect, it } from 'vitest';
import { csvLine, neutralise, parseCsv, quote } from '../../lib/csv.js';

describe('csv', () => {
  it('quotes only fields that need it, doubling quotes (RFC 4180)', () => {
    expect(quote('plain')).toBe('plain');
    expect(quote('a,b')).toBe('"a,b"');
    expect(quote('say "hi"')).toBe('"say ""hi"""');
    expect(quote('two\nlines')).toBe('"two\nlines"');
    expect(quote('cr\rhere')).toBe('"cr\rhere"');
    expect(quote('café ✓')).toBe('café ✓');
  });

  it.each(['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx'])('neutralises the formula-looking text %j', (text) => {
    expect(neutralise(text)).toBe(`'${text}`);
  });

  it.each(['\uff1d1+1', '\uff0b1', '\uff0d1', '\uff20SUM(A1)'])('neutralises the full-width formula sign in %j', (text) => {
    expect(neutralise(text)).toBe(`'${text}`);
  });

  it.each(['  =1+1', ' +1', '\t\t-1', ' \t@SUM(A1)', '\u00a0=1', '\u3000=1', '\n=1', ' "=1', '   \uff1d1'])(
    'neutralises %j: spreadsheets skip leading whitespace before a formula sign',
    (text) => {
      expect(neutralise(text)).toBe(`'${text}`);
    },
  );

  it('neutralises a spaced formula at the start as it does after a ";"', () => {
    expect(neutralise('  =HYPERLINK("http://x")')).toBe(`'  =HYPERLINK("http://x")`);
    expect(neutralise('a;  =HYPERLINK("http://x")')).toBe(`a;'  =HYPERLINK("http://x")`);
    expect(csvLine([{ value: '  =1+1', text: true }])).toBe(`'  =1+1\r\n`);
  });

  it('neutralises a formula after a ";" separator (locales that split on ";")', () => {
    expect(neutralise('lunch;=HYPERLINK("http://x")')).toBe(`lunch;'=HYPERLINK("http://x")`);
    expect(neutralise('a; "-2+3')).toBe(`a;' "-2+3`);
    expect(neutralise('a;\uff1d1;@x')).toBe(`a;'\uff1d1;'@x`);
    expect(neutralise('=a;+b')).toBe(`'=a;'+b`);
    expect(neutralise('tea; biscuits')).toBe('tea; biscuits');
  });

  it('leaves other text alone', () => {
    expect(neutralise('lunch = 5')).toBe('lunch = 5');
    expect(neutralise('  lunch - 5')).toBe('  lunch - 5');
    expect(neutralise('   ')).toBe('   ');
    expect(neutralise('')).toBe('');
  });

  it('writes lines with CRLF and neutralises text cells only', () => {
    expect(csvLine([{ value: '-5.00' }, { value: '-5', text: true }, { value: 'a,"b"', text: true }])).toBe(`-5.00,'-5,"a,""b"""\r\n`);
  });

  it('parses what it writes, and LF-only files, BOM and a missing final newline', () => {
    const rows = [['id', 'text'], ['1', 'a,"b"\r\nc'], ['2', '']];
    const text = rows.map((r) => csvLine(r.map((value) => ({ value })))).join('');
    expect(parseCsv(text)).toEqual(rows);
    expect(parseCsv('\ufeffa,b\n1,2')).toEqual([['a', 'b'], ['1', '2']]);
  });
});

import { expect } from 'vitest';
import { unzipSync, unzlibSync } from 'fflate';
import { PDFDocument, PDFName, PDFRawStream } from 'pdf-lib';
import { HELVETICA, HELVETICA_BOLD, WIN_ANSI_EXTRA } from '../../lib/statements/fonts.js';

// Reading statements back with other code than wrote them: pdf-lib parses the PDF (its
// structure, page tree and streams) and fflate inflates the content streams and unzips the
// workbook; text and cells are then read from the operators and the XML.

export interface PdfText {
  page: number;
  text: string;
  x: number;
  y: number;
  /** Where the text ends, from the fonts' metrics: right-aligned cells share it. */
  right: number;
  bold: boolean;
  size: number;
}

const FROM_WIN_ANSI = new Map([...WIN_ANSI_EXTRA].map(([unicode, code]) => [code, unicode]));

function unescapePdf(literal: string): string {
  return literal.replace(/\\([\\()])/g, '$1');
}

export async function readPdf(bytes: Uint8Array): Promise<{ pages: number; title: string | undefined; texts: PdfText[] }> {
  const doc = await PDFDocument.load(bytes, { updateMetadata: false });
  const texts: PdfText[] = [];
  doc.getPages().forEach((page, index) => {
    const contents = page.node.Contents();
    if (!(contents instanceof PDFRawStream)) throw new Error('expected one content stream per page');
    expect(contents.dict.get(PDFName.of('Filter'))?.toString()).toBe('/FlateDecode');
    const ops = Buffer.from(unzlibSync(contents.contents)).toString('latin1');
    for (const m of ops.matchAll(/\/(F[12]) ([\d.]+) Tf 1 0 0 1 ([\d.-]+) ([\d.-]+) Tm \(((?:\\.|[^\\)])*)\) Tj/g)) {
      const encoded = unescapePdf(m[5]!);
      const widths = m[1] === 'F2' ? HELVETICA_BOLD : HELVETICA;
      const size = Number(m[2]);
      let units = 0;
      let text = '';
      for (let i = 0; i < encoded.length; i++) {
        const code = encoded.charCodeAt(i);
        units += widths[code - 32] ?? 0;
        text += String.fromCodePoint(FROM_WIN_ANSI.get(code) ?? code);
      }
      const x = Number(m[3]);
      texts.push({ page: index + 1, text, x, y: Number(m[4]), right: x + (units * size) / 1000, bold: m[1] === 'F2', size });
    }
  });
  return { pages: doc.getPageCount(), title: doc.getTitle(), texts };
}

/** The texts of one line of a page (same y), left to right. */
export function lineOf(texts: PdfText[], first: PdfText): PdfText[] {
  return texts.filter((t) => t.page === first.page && Math.abs(t.y - first.y) < 0.01).sort((a, b) => a.x - b.x);
}

export interface XlsxCell {
  ref: string;
  /** 'n' for a number, 'inlineStr' for text. */
  type: string;
  value: string;
  style: number;
}

export interface Workbook {
  files: Record<string, string>;
  sheets: Array<{ name: string; rows: XlsxCell[][]; xml: string }>;
  /** numFmtId -> format code, of each cellXfs index. */
  formats: string[];
}

const unescapeXml = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');

export function readXlsx(bytes: Uint8Array): Workbook {
  const files = Object.fromEntries(Object.entries(unzipSync(bytes)).map(([name, data]) => [name, Buffer.from(data).toString('utf8')]));
  const workbook = files['xl/workbook.xml']!;
  const rels = files['xl/_rels/workbook.xml.rels']!;
  const sheets = [...workbook.matchAll(/<sheet name="([^"]+)" sheetId="\d+" r:id="(rId\d+)"\/>/g)].map(([, name, rid]) => {
    const target = new RegExp(`Id="${rid}" Type="[^"]+" Target="([^"]+)"`).exec(rels)![1]!;
    const xml = files[`xl/${target}`]!;
    const rows = [...xml.matchAll(/<row r="\d+">(.*?)<\/row>/g)].map(([, row]) =>
      [...row!.matchAll(/<c r="([A-Z]+\d+)"(?: s="(\d+)")?(?: t="(\w+)")?>(.*?)<\/c>/g)].map(([, ref, style, type, inner]) => ({
        ref: ref!,
        type: type ?? 'n',
        value: unescapeXml(type === 'inlineStr' ? /<t[^>]*>(.*?)<\/t>/s.exec(inner!)![1]! : /<v>(.*?)<\/v>/.exec(inner!)![1]!),
        style: Number(style ?? 0),
      })),
    );
    return { name: name!, rows, xml };
  });
  const styles = files['xl/styles.xml']!;
  const numFmts = Object.fromEntries([...styles.matchAll(/<numFmt numFmtId="(\d+)" formatCode="([^"]+)"\/>/g)].map(([, id, code]) => [id, unescapeXml(code!)]));
  const builtIn: Record<string, string> = { '0': 'General', '3': '#,##0', '4': '#,##0.00', '14': 'm/d/yyyy' };
  const cellXfs = /<cellXfs[^>]*>(.*?)<\/cellXfs>/.exec(styles)![1]!;
  const formats = [...cellXfs.matchAll(/<xf numFmtId="(\d+)"/g)].map(([, id]) => numFmts[id!] ?? builtIn[id!] ?? `#${id}`);
  return { files, sheets, formats };
}

/** A row's cells by column letter. */
export const byColumn = (row: XlsxCell[]) => Object.fromEntries(row.map((c) => [c.ref.replace(/\d+$/, ''), c]));

import { DEFAULT_STATEMENT_MAX_ROWS } from '../config.js';
import * as out from '../openapi/responses.js';
import { statementQuery } from '../statements/read.js';
import { notFound, type Reply, type Route, unauthenticated } from './route.js';

// A book's statement as a file to send someone: part of the route table (lib/routes/index.ts).
// Static last segments: API Gateway (and serverless-offline) route them apart from /api/books/{id}.

const refused: Record<number, Reply> = {
  400: { description: 'A bad date (the parameter is named), or date_before before date_after', json: ['FieldErrors', out.fieldErrors] },
  401: unauthenticated,
  404: notFound,
  413: {
    description: `The period holds more than STATEMENT_MAX_ROWS entries (default ${DEFAULT_STATEMENT_MAX_ROWS.toLocaleString('en')}), or the file would pass 4 MB: narrow it with date_after and date_before`,
    json: ['Detail', out.detail],
  },
};

const contents =
  'the book\'s name and currency, the period, the opening balance (the balance before date_after), every entry of the period ' +
  'in ledger order with the balance after it, totals in and out, the closing balance, and totals per category';

export const STATEMENT_ROUTES = {
  getBookStatementPdf: {
    method: 'GET', path: '/api/books/{id}/statement.pdf', summary: 'A statement of the book for a period, as PDF', tag: 'statements', auth: true, database: true,
    query: statementQuery,
    responses: {
      200: {
        description: `application/pdf, sent as attachment "statement_<from>_<to>.pdf": A4 pages with ${contents}; every page repeats the header and is numbered; amounts formatted for the book's currency`,
        contentType: 'application/pdf',
        binary: true,
        headers: ['Content-Disposition'],
      },
      ...refused,
    },
  },
  getBookStatementXlsx: {
    method: 'GET', path: '/api/books/{id}/statement.xlsx', summary: 'A statement of the book for a period, as an Excel workbook', tag: 'statements', auth: true, database: true,
    query: statementQuery,
    responses: {
      200: {
        description:
          `application/vnd.openxmlformats-officedocument.spreadsheetml.sheet, sent as attachment "statement_<from>_<to>.xlsx": ${contents}; ` +
          'sheet "Statement" (date cells, numeric amounts, frozen header row) and sheet "By category"',
        contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        binary: true,
        headers: ['Content-Disposition'],
      },
      ...refused,
    },
  },
} satisfies Record<string, Route>;

import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { fileAttachment } from '../lib/http/responses.js';
import { STATEMENT_ROUTES } from '../lib/routes/statements.js';
import { renderPdf } from '../lib/statements/pdf.js';
import { readStatement, tooLarge, STATEMENT_MAX_BYTES } from '../lib/statements/read.js';
import { buildStatement, statementFileName } from '../lib/statements/statement.js';

// Read the rows (bounded), release the connection, then render from plain data.
export const handler = api(STATEMENT_ROUTES.getBookStatementPdf, async (req) => {
  const rows = await withConnection((db) => readStatement(db, req.caller, req.id, req.query), req.connection);
  const statement = buildStatement(rows);
  const pdf = renderPdf(statement);
  if (pdf.length > STATEMENT_MAX_BYTES) throw tooLarge();
  return fileAttachment(pdf, 'application/pdf', statementFileName(statement.period, 'pdf'));
});

import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { transactionFiltersQuery } from '../lib/transactions/schema.js';
import { summarize } from '../lib/transactions/summary.js';

// The list's filters; one SQL statement.
export const handler = api({ query: transactionFiltersQuery }, (req) =>
  withConnection((db) => summarize(db, req.userId, req.query), req),
);

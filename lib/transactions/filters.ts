import { ValidationError } from '../errors.js';
import type { Filters, OrderTerm } from './schema.js';

// Filters -> a parameterised WHERE clause over `transactions t`. Only the filters that were
// given appear in the SQL, so each request gets a plan for exactly its conditions.

export interface SqlParts {
  where: string;
  values: unknown[];
}

/** Escapes LIKE's wildcards so `search` matches literally. */
const likeLiteral = (term: string) => `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The filters' conditions (not the caller's scope: see scopedRows and list.ts). `values` may
 * already hold parameters (e.g. the user id as $1); new ones are appended.
 */
export function filterSql(filters: Filters, values: unknown[] = []): SqlParts {
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const conditions: string[] = [];
  if (filters.type) conditions.push(`t.type = ${param(filters.type)}`);
  if (filters.category !== undefined) conditions.push(`t.category = ${param(filters.category)}`);
  if (filters.payment_mode) conditions.push(`t.payment_mode = ${param(filters.payment_mode)}`);
  if (filters.date_from) conditions.push(`t.date >= ${param(filters.date_from)}::date`);
  if (filters.date_to) conditions.push(`t.date <= ${param(filters.date_to)}::date`);
  if (filters.min_amount !== undefined) conditions.push(`t.amount >= ${param(filters.min_amount)}::numeric`);
  if (filters.max_amount !== undefined) conditions.push(`t.amount <= ${param(filters.max_amount)}::numeric`);
  if (filters.exclude_transfers) conditions.push('t.transfer_id IS NULL');
  if (filters.search) {
    const pattern = param(likeLiteral(filters.search));
    conditions.push(`(t.description ILIKE ${pattern} OR t.category ILIKE ${pattern})`);
  }
  return { where: conditions.length ? conditions.join(' AND ') : 'true', values };
}

const COLUMN: Record<OrderTerm['field'], string> = { date: 't.date', amount: 't.amount', created_at: 't.created_at' };

/** ORDER BY for `ordering`, completed with created_at and id so pages never overlap. */
export function orderSql(terms: readonly OrderTerm[], prefix = 't.'): string {
  const parts = terms.map((t) => `${COLUMN[t.field].replace('t.', prefix)} ${t.descending ? 'DESC' : 'ASC'}`);
  if (!terms.some((t) => t.field === 'created_at')) parts.push(`${prefix}created_at DESC`);
  parts.push(`${prefix}id DESC`);
  return parts.join(', ');
}

/** django-filter's ModelChoiceFilter message: the same for a missing book and another user's. */
export const unknownBookFilter = () =>
  new ValidationError({ book: ['Select a valid choice. That choice is not one of the available choices.'] });

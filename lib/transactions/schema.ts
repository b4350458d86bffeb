import { z } from 'zod';
import { isUuid, UUID_LENGTH } from '../ids.js';
import { amount, AMOUNT_PATTERN, amountOutput, moneyOutput, normaliseAmount } from '../money.js';
import { pageFields } from '../paging.js';
import { isCalendarDate } from '../dates.js';
import { bounded, choice, dateString, hasNoNul, NUL_MESSAGE, object, text, typeError } from '../validation.js';

export const TYPES = ['income', 'expense'] as const;
export const PAYMENT_MODES = ['cash', 'bank', 'card', 'upi', 'cheque', 'other'] as const;

/** Read-only fields an old client may echo back in PUT/PATCH; DRF ignores them, so do we. */
const READ_ONLY = ['id', 'created_at', 'updated_at', 'user', 'balance_after', 'transfer', 'created_by', 'updated_by'] as const;

const notUuid = (iss: { input?: unknown }) => `“${String(iss.input)}” is not a valid UUID.`;

/** A book id; whether it is one of the user's books is checked in SQL (400 if not). */
export const bookId = () =>
  z
    .string({ error: typeError('Not a valid string.') })
    .max(UUID_LENGTH, { error: notUuid, abort: true })
    .refine(isUuid, { error: notUuid })
    .transform((id) => id.toLowerCase())
    .meta({ format: 'uuid' });

const fields = {
  type: choice(TYPES),
  amount: amount(),
  category: text(100),
  description: text(1000),
  date: dateString(),
  payment_mode: choice(PAYMENT_MODES),
};

/** POST: type and amount required; the rest default as in the old model. */
export const createTransactionBody = object(
  {
    type: fields.type,
    amount: fields.amount,
    category: fields.category.default(''),
    description: fields.description.default(''),
    date: fields.date.optional(),
    payment_mode: fields.payment_mode.default('cash'),
    /** Omitted by old clients: the user's default book. */
    book: bookId().optional(),
  },
  READ_ONLY,
);

/** PUT: every writable field required, except `book` (old clients do not know it: unchanged). */
export const replaceTransactionBody = object({ ...fields, book: bookId().optional() }, READ_ONLY);

/** PATCH: any subset. */
export const patchTransactionBody = object(
  {
    type: fields.type.optional(),
    amount: fields.amount.optional(),
    category: fields.category.optional(),
    description: fields.description.optional(),
    date: fields.date.optional(),
    payment_mode: fields.payment_mode.optional(),
    book: bookId().optional(),
  },
  READ_ONLY,
);

export type CreateTransactionInput = z.output<typeof createTransactionBody>;
export type PatchTransactionInput = z.output<typeof patchTransactionBody>;

/** A user as an entry names one (lib/books/access.ts userRef): `{id, username}`, or null for a deleted account. */
const userRefOutput = () => z.object({ id: z.int(), username: z.string() }).nullable();

/** A transaction as the API answers it; its SQL is lib/transactions/queries.ts's `columns`. */
export const transactionOutput = z.object({
  id: z.uuid(),
  book: z.uuid().meta({ description: 'The id of a book the user is a member of' }),
  type: z.enum(TYPES),
  amount: amountOutput(),
  category: z.string(),
  description: z.string(),
  date: z.iso.date(),
  payment_mode: z.enum(PAYMENT_MODES),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
  transfer: z.uuid().nullable().meta({
    description: 'The transfer this entry is one side of (GET /api/transfers/{id}/), null for an ordinary entry',
  }),
  created_by: userRefOutput().meta({ description: 'Who recorded the entry; null for a deleted account' }),
  updated_by: userRefOutput().meta({ description: 'Who last changed the entry (who recorded it, until it is changed); null for a deleted account' }),
});

/** A transaction in a list (and in the CSV export): also its book's balance after it, in ledger order. */
export const listedTransactionOutput = transactionOutput.extend({
  balance_after: moneyOutput().meta({
    description: 'The book\'s balance after this entry, in ledger order (date, created_at, id), over all the book\'s transactions whatever the filters',
  }),
  attachments: z.int().meta({ description: 'How many complete attachments (receipts) the entry has' }),
});

const transfersIn = () => moneyOutput().meta({ description: 'Income entries of transfers (money moved in from another book); not in income' });
const transfersOut = () => moneyOutput().meta({ description: 'Expense entries of transfers (money moved out to another book); not in expense' });

export const transactionSummaryOutput = z.object({
  count: z.int().meta({ description: 'Entries matched, transfer entries included (as the list counts them)' }),
  total_income: moneyOutput().meta({ description: 'Income entries, transfers apart' }),
  total_expense: moneyOutput().meta({ description: 'Expense entries, transfers apart' }),
  balance: moneyOutput().meta({ description: 'total_income - total_expense + transfers_in - transfers_out: the net change of the matched entries' }),
  by_category: z
    .array(z.object({ category: z.string(), income: moneyOutput(), expense: moneyOutput(), transfers_in: transfersIn(), transfers_out: transfersOut() }))
    .meta({ description: 'Sorted by category' }),
  by_month: z
    .array(
      z.object({
        month: z.string().regex(/^\d{4}-\d{2}$/).meta({ example: '2025-01' }),
        income: moneyOutput(),
        expense: moneyOutput(),
        balance: moneyOutput().meta({ description: 'income - expense + transfers_in - transfers_out' }),
        transfers_in: transfersIn(),
        transfers_out: transfersOut(),
      }),
    )
    .meta({ description: 'Sorted by month' }),
  transfers_in: transfersIn(),
  transfers_out: transfersOut(),
});

/** `ordering` fields; each may be prefixed with `-` for descending. */
const ORDERING_FIELDS = ['date', 'amount', 'created_at'] as const;
export type OrderingField = (typeof ORDERING_FIELDS)[number];
export interface OrderTerm {
  field: OrderingField;
  descending: boolean;
}
export const DEFAULT_ORDERING: OrderTerm[] = [
  { field: 'date', descending: true },
  { field: 'created_at', descending: true },
];

/** Each field once, each with a "-": far below this; a longer value is refused before it is split. */
const MAX_ORDERING_LENGTH = 100;

const ordering = z
  .string()
  .max(MAX_ORDERING_LENGTH, bounded(`Ensure this value has at most ${MAX_ORDERING_LENGTH} characters.`))
  .meta({ examples: ['-date', 'amount,-created_at'] })
  .transform((raw, ctx) => {
    const terms: OrderTerm[] = [];
    for (const part of raw.split(',').map((p) => p.trim())) {
      const descending = part.startsWith('-');
      const field = descending ? part.slice(1) : part;
      if (!(ORDERING_FIELDS as readonly string[]).includes(field)) {
        ctx.addIssue({
          code: 'custom',
          message: `Invalid ordering "${part}". Use ${ORDERING_FIELDS.join(', ')}, each optionally prefixed with "-".`,
        });
        return z.NEVER;
      }
      if (terms.some((t) => t.field === field)) continue;
      terms.push({ field: field as OrderingField, descending });
    }
    return terms;
  });

export const filterDate = () =>
  z.string().max(10, bounded('Enter a valid date.')).refine(isCalendarDate, 'Enter a valid date.').meta({ format: 'date' });

const filterAmount = () =>
  z.string().meta({ pattern: AMOUNT_PATTERN, examples: ['100', '0.50'] }).transform((raw, ctx) => {
    // A bound, not an amount: 0 is a valid lower bound (django-filter's NumberFilter takes it).
    const result = normaliseAmount(raw, { allowZero: true });
    if ('error' in result) {
      ctx.addIssue({ code: 'custom', message: 'Enter a number.' });
      return z.NEVER;
    }
    return result.value;
  });

const filterChoice = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: (iss) => `Select a valid choice. ${String(iss.input)} is not one of the available choices.` });

/**
 * The filters of GET /api/transactions/ (also summary/ and export/). Unknown parameters are
 * ignored, as DRF does; a bad value of a known one is a 400 naming it.
 */
const filterShape = {
  book: bookId().optional(),
  type: filterChoice(TYPES).optional(),
  category: z.string().max(100, bounded('Ensure this value has at most 100 characters.')).refine(hasNoNul, NUL_MESSAGE).optional(),
  payment_mode: filterChoice(PAYMENT_MODES).optional(),
  date_from: filterDate().optional(),
  date_to: filterDate().optional(),
  min_amount: filterAmount().optional(),
  max_amount: filterAmount().optional(),
  search: z.string().max(200, bounded('Ensure this value has at most 200 characters.')).refine(hasNoNul, NUL_MESSAGE).optional(),
  exclude_transfers: z
    .enum(['true', 'false', '1', '0'], { error: 'Must be "true" or "false".' })
    .optional()
    // Absent stays absent: the parsed filters of a request without it are what they were.
    .transform((v) => (v === undefined ? undefined : v === 'true' || v === '1'))
    .meta({ description: 'true: leave out the entries of transfers between books' }),
};

const filterFields = {
  ...filterShape,
  ordering: ordering.optional().transform((o) => o ?? DEFAULT_ORDERING),
};

/** django-filter skips a filter given an empty value (`?type=`); so do we. */
const dropEmptyFilters = (input: unknown) =>
  input && typeof input === 'object'
    ? Object.fromEntries(Object.entries(input).filter(([k, v]) => !(k in filterFields && v === '')))
    : input;

export const transactionFiltersQuery = z.preprocess(dropEmptyFilters, z.looseObject(filterFields));
export type Filters = z.output<typeof transactionFiltersQuery>;

export const listTransactionsQuery = z.preprocess(dropEmptyFilters, z.looseObject({
  ...filterFields,
  ...pageFields,
}));

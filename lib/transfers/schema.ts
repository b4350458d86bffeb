import { z } from 'zod';
import { amount, amountOutput } from '../money.js';
import { pageFields } from '../paging.js';
import { bookId, filterDate, PAYMENT_MODES, transactionOutput } from '../transactions/schema.js';
import { choice, dateString, object, text } from '../validation.js';

// Transfers between two of the user's books: an expense in from_book and an income in to_book
// (lib/transfers/queries.ts). Books of different currencies need to_amount, what to_book receives.

/** Read-only fields a client may echo back; ignored as DRF does. */
const READ_ONLY = ['id', 'from_entry', 'to_entry', 'created_at', 'updated_at', 'user'] as const;

const DEFAULT_CATEGORY = 'transfer';

const fields = {
  amount: amount().meta({ description: 'Taken out of from_book, in its currency' }),
  to_amount: amount().meta({
    description: 'Put into to_book, in its currency: required between books of different currencies; between books of one currency it is amount',
  }),
  date: dateString(),
  description: text(1000),
  category: text(100),
  payment_mode: choice(PAYMENT_MODES),
};

export const createTransferBody = object(
  {
    from_book: bookId().meta({ description: 'The book the money leaves (an expense entry)' }),
    to_book: bookId().meta({ description: 'The book the money enters (an income entry)' }),
    amount: fields.amount,
    to_amount: fields.to_amount.optional(),
    date: fields.date.optional(),
    description: fields.description.default(''),
    category: fields.category.default(DEFAULT_CATEGORY),
    payment_mode: fields.payment_mode.default('cash'),
  },
  READ_ONLY,
).refine((t) => t.from_book !== t.to_book, { path: ['to_book'], message: 'A transfer needs two different books: to_book is from_book.' });

/** A transfer's books are fixed: moving money elsewhere is a new transfer. */
const fixedBook = () =>
  z.never({ error: 'A transfer\'s books cannot change: delete the transfer and create another.' }).optional();

export const patchTransferBody = object(
  {
    amount: fields.amount.optional(),
    to_amount: fields.to_amount.optional(),
    date: fields.date.optional(),
    description: fields.description.optional(),
    category: fields.category.optional(),
    payment_mode: fields.payment_mode.optional(),
    from_book: fixedBook(),
    to_book: fixedBook(),
  },
  READ_ONLY,
);

export type CreateTransferInput = z.output<typeof createTransferBody>;
export type PatchTransferInput = z.output<typeof patchTransferBody>;

/** A transfer as the API answers it; its SQL is lib/transfers/queries.ts's `transferColumns`. */
export const transferOutput = z.object({
  id: z.uuid(),
  from_book: z.uuid(),
  to_book: z.uuid(),
  amount: amountOutput().meta({ description: 'The from_entry\'s amount' }),
  to_amount: amountOutput().meta({ description: 'The to_entry\'s amount (equal to amount between books of one currency)' }),
  date: z.iso.date(),
  description: z.string().meta({ description: 'The from_entry\'s (both entries get it when the transfer is created or edited)' }),
  category: z.string().meta({ description: 'The from_entry\'s (both entries get it when the transfer is created or edited)' }),
  payment_mode: z.enum(PAYMENT_MODES),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime().meta({ description: 'The later of the two entries\' updated_at' }),
  from_entry: transactionOutput.meta({ description: 'The expense in from_book' }),
  to_entry: transactionOutput.meta({ description: 'The income in to_book' }),
});

/** GET /api/transfers/: newest first; dates inclusive (django-filter's DateFromToRangeFilter names). */
const filterFields = {
  book: bookId().optional().meta({ description: 'Transfers from or to this book' }),
  date_after: filterDate().optional().meta({ description: 'On or after this date' }),
  date_before: filterDate().optional().meta({ description: 'On or before this date' }),
};

/** django-filter skips a filter given an empty value (`?book=`), as the transaction list does. */
const dropEmptyFilters = (input: unknown) =>
  input && typeof input === 'object'
    ? Object.fromEntries(Object.entries(input).filter(([k, v]) => !(k in filterFields && v === '')))
    : input;

export const listTransfersQuery = z.preprocess(dropEmptyFilters, z.looseObject({ ...filterFields, ...pageFields }));

export type TransferFilters = z.output<typeof listTransfersQuery>;

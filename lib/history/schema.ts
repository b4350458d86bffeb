import { z } from 'zod';
import { pageFields } from '../paging.js';
import { filterDate } from '../transactions/schema.js';
import { bounded } from '../validation.js';

// An entry's history and a book's activity, as the API shows the rows the triggers of migration
// 1764000080000 write to book_activity (lib/history/entry-history.ts, book-activity.ts).

/** `{id, username}`, or null for a deleted account. */
const userRef = () =>
  z.object({ id: z.int(), username: z.string() }).nullable().meta({ description: 'The user, or null for a deleted account' });

/** `{field: [old, new]}`: every value a string or null, as the entry's fields are shown. */
const changes = () =>
  z.record(z.string(), z.tuple([z.string().nullable(), z.string().nullable()])).meta({
    description:
      'Each changed field with its old and new value. On "created" every field is [null, value]; on "deleted", [value, null]. ' +
      'Entry fields: book, type, amount, category, description, date, payment_mode, transfer. Membership: role, status.',
    examples: [{ amount: ['12.50', '13.00'], category: ['food', 'groceries'] }],
  });

const imported = () =>
  z.literal(true).optional().meta({
    description: 'Only on the "created" version of an entry recorded before history existed: written from the row (actor: the book\'s account), not observed',
  });

export const ENTRY_ACTIONS = ['created', 'updated', 'deleted'] as const;
export const MEMBER_ACTIONS = ['invited', 'joined', 'declined', 'role_changed', 'removed', 'left', 'ownership_transferred'] as const;

/** One version of an entry (GET /api/transactions/{id}/history/). */
export const entryVersionOutput = z.object({
  version: z.int().meta({ description: '1, 2, …: replaying versions 1..n in order gives the current entry (or its deletion)' }),
  action: z.enum(ENTRY_ACTIONS),
  at: z.iso.datetime(),
  actor: userRef(),
  changes: changes(),
  imported: imported(),
});

/** One change of a book (GET /api/books/{id}/activity/): an entry's version or a membership change. */
export const activityOutput = z.object({
  id: z.int(),
  at: z.iso.datetime(),
  actor: userRef().meta({ description: 'Who did it, or null (a deleted account, or a change made outside the API)' }),
  action: z.enum([...ENTRY_ACTIONS, ...MEMBER_ACTIONS]),
  entry: z.uuid().nullable().meta({ description: 'The entry (transaction id) of an entry\'s version; null for a membership change' }),
  version: z.int().nullable().meta({ description: 'The entry\'s version (GET /api/transactions/{entry}/history/)' }),
  member: userRef().meta({ description: 'The member a membership change is about; null for an entry\'s version' }),
  changes: changes(),
  imported: imported(),
});

const ACTOR_MESSAGE = 'Enter a whole number.';

/** `?actor=`: a user id, read as the users' ids are (positive, at most 16 digits). */
const actor = z
  .string()
  .max(16, bounded(ACTOR_MESSAGE))
  .regex(/^[1-9]\d{0,15}$/, ACTOR_MESSAGE)
  .transform(Number)
  .refine(Number.isSafeInteger, ACTOR_MESSAGE)
  .meta({ description: 'Only what this user (id) did', examples: ['42'] });

const filterFields = {
  actor: actor.optional(),
  date_after: filterDate().optional().meta({ description: 'On or after this day (UTC)' }),
  date_before: filterDate().optional().meta({ description: 'On or before this day (UTC)' }),
};

/** django-filter skips a filter given an empty value (`?actor=`), as the other lists do. */
const dropEmptyFilters = (input: unknown) =>
  input && typeof input === 'object'
    ? Object.fromEntries(Object.entries(input).filter(([k, v]) => !(k in filterFields && v === '')))
    : input;

export const listActivityQuery = z.preprocess(dropEmptyFilters, z.looseObject({ ...filterFields, ...pageFields }));

export type ActivityFilters = z.output<typeof listActivityQuery>;
export type EntryVersion = z.output<typeof entryVersionOutput>;
export type Activity = z.output<typeof activityOutput>;

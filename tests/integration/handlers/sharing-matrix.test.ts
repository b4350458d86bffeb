import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { objectKey } from '../../../lib/attachments/queries.js';
import { signUp } from '../../support/accounts.js';
import { expectNoAppConnections, resetData } from '../../support/db.js';
import { invoke, type EventInput, type Reply } from '../../support/events.js';
import { defaultBookOf } from '../../support/sharing.js';

// Shared books (issue 18): every endpoint that touches a book or an entry, called by each kind of
// caller, answers what the permission table says (../shared/API.md "Shared books"):
//   owner, admin, operator, viewer   active members of the book with that role
//   pending                          invited as admin, not accepted yet: no access at all
//   removed                          was an admin, removed: no access at all
//   stranger                         never a member
//   inactive                         an active admin whose account is deactivated (is_active = false)
// A book or entry the caller is not an active member of is a 404 exactly as for a missing one
// (a `?book=` filter, or a create naming such a book, is a 400 naming the field, as for another
// user's book before sharing); a member without the right is a 403 permission_denied; a
// deactivated account is a 401 user_inactive whatever its role. Operators edit and delete only
// the entries (transfers, receipts) they recorded.
//
// One row per endpoint, one case per caller, run one at a time (the app role has few
// connections). Fixtures are written directly in SQL (as a migration or an import would leave
// them), so the matrix depends on no other endpoint than the one under test. A row whose request
// changes the book (deletes, member changes) builds a fresh shared book for each case; the others
// share one. Each case also checks the request's effect in the database: a refused request
// changed nothing, an allowed one did what it said.
//
// A row whose function file does not exist yet is skipped, naming the file (the member,
// invitation, ownership, history and activity endpoints land with issue 18).

type Account = Awaited<ReturnType<typeof signUp>>;
const CALLERS = ['owner', 'admin', 'operator', 'viewer', 'pending', 'removed', 'stranger', 'inactive'] as const;
type Who = (typeof CALLERS)[number];
/** Whether the caller is an active member of the shared book (inactive: an active admin, but deactivated). */
const MEMBERS: readonly Who[] = ['owner', 'admin', 'operator', 'viewer'];

interface Fixture {
  /** The shared book, owned by `owner`; every caller holds the membership its name says. */
  book: string;
  /** A second book with the same members (the other side of the transfers). */
  other: string;
  ownerEntry: string;
  operatorEntry: string;
  /** An entry from before shared books (legacy: its recorder is the book's account, the owner). */
  legacyEntry: string;
  /** An entry the owner recorded and deleted through the API's statement (its history stays). */
  deletedEntry: string;
  /** Transfers between `book` and `other`, recorded by the owner and by the operator. */
  ownerTransfer: string;
  operatorTransfer: string;
  /** A receipt the owner uploaded on the owner's entry, and one the operator uploaded on the operator's. */
  ownerReceipt: string;
  operatorReceipt: string;
  /** Active members the member endpoints act on. */
  subOperator: number;
  subAdmin: number;
  /** A user with no membership yet, to invite. */
  candidate: { id: number; username: string };
}

interface Case {
  who: Who;
  caller: Account;
  fx: Fixture;
  /** What the row's setup made for this case. */
  target?: string;
}

interface Row {
  name: string;
  /** The handler: functions/<fn>.ts. */
  fn: string;
  /** A fresh shared book for each case (the request changes the book). */
  fresh?: boolean;
  /** Writes what this case needs (its id goes to `target`). */
  setup?: (c: Case) => Promise<string>;
  request: (c: Case) => EventInput;
  expected: Record<Who, number>;
  /** The field a 400 names. */
  field?: string;
  /** More checks of a successful answer. */
  verify?: (res: Reply, c: Case) => void;
  /** The request's effect in the database: done when allowed, nothing when refused. */
  effect?: (c: Case, allowed: boolean) => Promise<void>;
}

// ---- expected statuses ---------------------------------------------------------------------

/** Not an active member: 404 as for a missing object; the deactivated account: 401. */
const OUTSIDERS = { pending: 404, removed: 404, stranger: 404, inactive: 401 } as const;
/** A `?book=` filter (or a create naming a book) the caller cannot use: 400, as for another user's book. */
const AS_FILTER = { pending: 400, removed: 400, stranger: 400, inactive: 401 } as const;
/** Endpoints that are the caller's own (lists of everything): 200 for everyone but the deactivated account. */
const EVERYONE = { owner: 200, admin: 200, operator: 200, viewer: 200, pending: 200, removed: 200, stranger: 200, inactive: 401 } as const;

function by(owner: number, admin: number, operator: number, viewer: number, others: Pick<Record<Who, number>, 'pending' | 'removed' | 'stranger' | 'inactive'> = OUTSIDERS): Record<Who, number> {
  return { owner, admin, operator, viewer, ...others };
}
const READ = by(200, 200, 200, 200);

// ---- fixtures --------------------------------------------------------------------------------

let admin: pg.Client;
const sql = async <R extends pg.QueryResultRow = Record<string, any>>(text: string, values: unknown[] = []) => (await admin.query<R>(text, values)).rows;
const users = {} as Record<Who, Account>;
const ownBook = {} as Record<Who, string>;
let shared: Fixture;
let created = 0;

async function sqlUser(prefix: string): Promise<{ id: number; username: string }> {
  const username = `${prefix}${++created}_${Date.now()}`;
  const [row] = await sql<{ id: string }>(`INSERT INTO users (username, email, password_hash) VALUES ($1, '', 'unusable') RETURNING id`, [username]);
  return { id: Number(row!.id), username };
}

/** Inserts a transfer pair between `from` and `to`, recorded by `by`; returns its id. */
async function transferOf(from: string, to: string, recorder: number): Promise<string> {
  const id = randomUUID();
  await sql(
    `INSERT INTO transactions (user_id, book_id, type, amount, category, description, date, transfer_id, created_by, updated_by)
     SELECT $1, v.book, v.type, 5, 'transfer', 'matrix transfer', '2026-01-12', $4, $5, $5
     FROM (VALUES ($2::uuid, 'expense'), ($3::uuid, 'income')) AS v (book, type)`,
    [users.owner.id, from, to, id, recorder],
  );
  return id;
}

async function receiptOf(entry: string, uploader: number): Promise<string> {
  const id = randomUUID();
  await sql(
    `INSERT INTO attachments (id, transaction_id, user_id, created_by, filename, content_type, size, slot, status, object_key, completed_at)
     SELECT $1, $2, $3, $4, 'receipt.pdf', 'application/pdf', 10, COALESCE(max(a.slot), 0) + 1, 'complete', $5, now()
     FROM attachments a WHERE a.transaction_id = $2`,
    [id, entry, users.owner.id, uploader, objectKey(id)],
  );
  return id;
}

/** A shared book and its twin, every caller a member as its name says, with entries, transfers and receipts. */
async function sharedBook(): Promise<Fixture> {
  const [book, other] = await sql<{ id: string }>(
    `INSERT INTO books (user_id, name, currency) VALUES ($1, 'Shared', 'INR'), ($1, 'Shared twin', 'INR') RETURNING id`,
    [users.owner.id],
  );
  const [subOperator, subAdmin, candidate] = [await sqlUser('subop'), await sqlUser('subadmin'), await sqlUser('candidate')];
  // The creator is the owner (trigger); the others as an accepted (or pending, or removed) invitation leaves them.
  const members: Array<[number, string, string]> = [
    [users.admin.id, 'admin', 'active'],
    [users.operator.id, 'operator', 'active'],
    [users.viewer.id, 'viewer', 'active'],
    [users.pending.id, 'admin', 'pending'],
    [users.removed.id, 'admin', 'removed'],
    [users.inactive.id, 'admin', 'active'],
    [subOperator.id, 'operator', 'active'],
    [subAdmin.id, 'admin', 'active'],
  ];
  await sql(
    `INSERT INTO book_members (book_id, user_id, role, status, invited_by, updated_by)
     SELECT b.id, m.user_id, m.role, m.status, $2, $2
     FROM unnest($1::uuid[]) AS b (id), unnest($3::bigint[], $4::text[], $5::text[]) AS m (user_id, role, status)`,
    [[book!.id, other!.id], users.owner.id, members.map((m) => m[0]), members.map((m) => m[1]), members.map((m) => m[2])],
  );
  const entries = await sql<{ id: string }>(
    `INSERT INTO transactions (user_id, book_id, type, amount, category, description, date, created_by, updated_by)
     VALUES ($1, $2, 'expense', 10.00, 'Food', 'matrix owner entry', '2026-01-10', $1, $1),
            ($1, $2, 'expense', 20.00, 'Food', 'matrix operator entry', '2026-01-11', $3, $3),
            ($1, $2, 'income', 30.00, 'Sales', 'matrix deleted entry', '2026-01-09', $1, $1)
     RETURNING id`,
    [users.owner.id, book!.id, users.operator.id],
  );
  const [ownerEntry, operatorEntry, deletedEntry] = entries.map((e) => e.id) as [string, string, string];
  const [legacy] = await sql<{ id: string }>(
    `INSERT INTO transactions (user_id, book_id, type, amount, description, date, legacy) VALUES ($1, $2, 'expense', 7.00, 'matrix legacy entry', '2025-12-31', true) RETURNING id`,
    [users.owner.id, book!.id],
  );
  // As the API's DELETE does: the claim names who deleted it (the history's actor).
  await sql(
    `WITH claim AS (INSERT INTO entry_deletions (transaction_id, actor_id) VALUES ($1, $2))
     DELETE FROM transactions WHERE id = $1`,
    [deletedEntry, users.owner.id],
  );
  return {
    book: book!.id,
    other: other!.id,
    ownerEntry,
    operatorEntry,
    legacyEntry: legacy!.id,
    deletedEntry,
    ownerTransfer: await transferOf(book!.id, other!.id, users.owner.id),
    operatorTransfer: await transferOf(book!.id, other!.id, users.operator.id),
    ownerReceipt: await receiptOf(ownerEntry, users.owner.id),
    operatorReceipt: await receiptOf(operatorEntry, users.operator.id),
    subOperator: subOperator.id,
    subAdmin: subAdmin.id,
    candidate,
  };
}

// ---- requests ----------------------------------------------------------------------------------

const byId = (path: string, id: string, extra: EventInput = {}): EventInput => ({ path: `${path}${id}/`, pathParameters: { id }, ...extra });
const member = (book: string, userId: number, extra: EventInput = {}): EventInput => ({
  path: `/api/books/${book}/members/${userId}/`,
  pathParameters: { id: book, user_id: String(userId) },
  ...extra,
});
const JANUARY = { date_after: '2026-01-01', date_before: '2026-01-31' };
const entryBody = (c: Case) => ({ type: 'expense', amount: '11.00', category: 'Food', description: `replaced by ${c.who}`, date: '2026-01-15', payment_mode: 'cash', book: c.fx.book });

const exists = async (table: string, id: string) => (await sql(`SELECT 1 FROM ${table} WHERE id = $1`, [id])).length === 1;
const memberRow = async (book: string, userId: number) =>
  (await sql<{ role: string; status: string }>('SELECT role, status FROM book_members WHERE book_id = $1 AND user_id = $2', [book, userId]))[0];
const described = async (book: string, description: string) =>
  Number((await sql<{ n: string }>('SELECT count(*) AS n FROM transactions WHERE book_id = $1 AND description = $2', [book, description]))[0]!.n);
const ids = (res: Reply) => (res.body.results as Array<{ id: string }>).map((r) => r.id);

const ROWS: Row[] = [
  // -- books
  {
    name: 'GET /api/books/ lists the shared book with the caller\'s role',
    fn: 'list-books',
    request: () => ({ path: '/api/books/', query: { page_size: '100' } }),
    expected: EVERYONE,
    verify: (res, c) => {
      const listed = (res.body.results as Array<{ id: string; role?: string }>).find((b) => b.id === c.fx.book);
      if (MEMBERS.includes(c.who)) expect(listed?.role).toBe(c.who);
      else expect(listed).toBeUndefined();
    },
  },
  {
    name: 'GET /api/books/{id}/',
    fn: 'get-book',
    request: (c) => byId('/api/books/', c.fx.book),
    expected: READ,
    verify: (res, c) => expect(res.body).toMatchObject({ id: c.fx.book, role: c.who }),
  },
  {
    name: 'PATCH /api/books/{id}/ (rename)',
    fn: 'update-book',
    request: (c) => byId('/api/books/', c.fx.book, { method: 'PATCH', body: { name: `renamed by ${c.who}` } }),
    expected: by(200, 200, 403, 403),
    effect: async (c, allowed) => {
      const [row] = await sql<{ name: string }>('SELECT name FROM books WHERE id = $1', [c.fx.book]);
      expect(row!.name === `renamed by ${c.who}`).toBe(allowed);
    },
  },
  {
    name: 'PUT /api/books/{id}/ (name and currency)',
    fn: 'replace-book',
    request: (c) => byId('/api/books/', c.fx.book, { method: 'PUT', body: { name: `replaced by ${c.who}`, currency: 'INR' } }),
    expected: by(200, 200, 403, 403),
    effect: async (c, allowed) => {
      const [row] = await sql<{ name: string }>('SELECT name FROM books WHERE id = $1', [c.fx.book]);
      expect(row!.name === `replaced by ${c.who}`).toBe(allowed);
    },
  },
  {
    name: 'DELETE /api/books/{id}/?force=true',
    fn: 'delete-book',
    fresh: true,
    request: (c) => byId('/api/books/', c.fx.book, { method: 'DELETE', query: { force: 'true' } }),
    expected: by(204, 403, 403, 403),
    effect: async (c, allowed) => expect(await exists('books', c.fx.book)).toBe(!allowed),
  },

  // -- entries: lists, summary, export
  {
    name: 'GET /api/transactions/?book=',
    fn: 'list-transactions',
    request: (c) => ({ path: '/api/transactions/', query: { book: c.fx.book } }),
    expected: by(200, 200, 200, 200, AS_FILTER),
    field: 'book',
    verify: (res, c) => expect(ids(res)).toEqual(expect.arrayContaining([c.fx.ownerEntry, c.fx.operatorEntry])),
  },
  {
    name: 'GET /api/transactions/ (every book the caller is a member of)',
    fn: 'list-transactions',
    request: () => ({ path: '/api/transactions/', query: { page_size: '100' } }),
    expected: EVERYONE,
    verify: (res, c) => expect(ids(res).includes(c.fx.ownerEntry)).toBe(MEMBERS.includes(c.who)),
  },
  {
    name: 'GET /api/transactions/summary/?book=',
    fn: 'get-transaction-summary',
    request: (c) => ({ path: '/api/transactions/summary/', query: { book: c.fx.book } }),
    expected: by(200, 200, 200, 200, AS_FILTER),
    field: 'book',
    verify: (res) => expect(res.body.count).toBeGreaterThanOrEqual(2),
  },
  {
    name: 'GET /api/transactions/summary/ (every book the caller is a member of)',
    fn: 'get-transaction-summary',
    request: () => ({ path: '/api/transactions/summary/' }),
    expected: EVERYONE,
    // The outsiders never record anything: nothing of the shared book may count in their totals.
    verify: (res, c) => (MEMBERS.includes(c.who) ? expect(res.body.count).toBeGreaterThanOrEqual(2) : expect(res.body.count).toBe(0)),
  },
  {
    name: 'GET /api/transactions/export/?book=',
    fn: 'export-transactions',
    request: (c) => ({ path: '/api/transactions/export/', query: { book: c.fx.book } }),
    expected: by(200, 200, 200, 200, AS_FILTER),
    field: 'book',
    verify: (res) => expect(res.raw).toContain('matrix owner entry'),
  },
  {
    name: 'GET /api/transactions/export/ (every book the caller is a member of)',
    fn: 'export-transactions',
    request: () => ({ path: '/api/transactions/export/' }),
    expected: EVERYONE,
    verify: (res, c) => expect(res.raw!.includes('matrix owner entry')).toBe(MEMBERS.includes(c.who)),
  },

  // -- entries
  {
    name: 'POST /api/transactions/ in the shared book',
    fn: 'create-transaction',
    request: (c) => ({ method: 'POST', path: '/api/transactions/', body: { type: 'expense', amount: '3.00', description: `created by ${c.who}`, book: c.fx.book } }),
    expected: by(201, 201, 201, 403, AS_FILTER),
    field: 'book',
    effect: async (c, allowed) => expect(await described(c.fx.book, `created by ${c.who}`)).toBe(allowed ? 1 : 0),
  },
  {
    name: 'GET /api/transactions/{id}/ (recorded by the owner)',
    fn: 'get-transaction',
    request: (c) => byId('/api/transactions/', c.fx.ownerEntry),
    expected: READ,
    verify: (res, c) => expect(res.body).toMatchObject({ id: c.fx.ownerEntry, book: c.fx.book }),
  },
  {
    name: 'PUT /api/transactions/{id}/ (recorded by the owner)',
    fn: 'replace-transaction',
    request: (c) => byId('/api/transactions/', c.fx.ownerEntry, { method: 'PUT', body: entryBody(c) }),
    expected: by(200, 200, 403, 403),
    effect: async (c, allowed) => expect(await described(c.fx.book, `replaced by ${c.who}`)).toBe(allowed ? 1 : 0),
  },
  {
    name: 'PATCH /api/transactions/{id}/ (recorded by the owner)',
    fn: 'update-transaction',
    request: (c) => byId('/api/transactions/', c.fx.ownerEntry, { method: 'PATCH', body: { description: `patched by ${c.who}` } }),
    expected: by(200, 200, 403, 403),
    effect: async (c, allowed) => expect(await described(c.fx.book, `patched by ${c.who}`)).toBe(allowed ? 1 : 0),
  },
  {
    name: 'PUT /api/transactions/{id}/ (recorded by the operator)',
    fn: 'replace-transaction',
    request: (c) => byId('/api/transactions/', c.fx.operatorEntry, { method: 'PUT', body: { ...entryBody(c), description: `op entry replaced by ${c.who}` } }),
    expected: by(200, 200, 200, 403),
    effect: async (c, allowed) => expect(await described(c.fx.book, `op entry replaced by ${c.who}`)).toBe(allowed ? 1 : 0),
  },
  {
    name: 'PATCH /api/transactions/{id}/ (recorded by the operator)',
    fn: 'update-transaction',
    request: (c) => byId('/api/transactions/', c.fx.operatorEntry, { method: 'PATCH', body: { description: `op entry patched by ${c.who}` } }),
    expected: by(200, 200, 200, 403),
    effect: async (c, allowed) => expect(await described(c.fx.book, `op entry patched by ${c.who}`)).toBe(allowed ? 1 : 0),
  },
  {
    name: 'PATCH /api/transactions/{id}/ (from before shared books: the owner\'s account recorded it)',
    fn: 'update-transaction',
    request: (c) => byId('/api/transactions/', c.fx.legacyEntry, { method: 'PATCH', body: { description: `legacy patched by ${c.who}` } }),
    expected: by(200, 200, 403, 403),
    effect: async (c, allowed) => expect(await described(c.fx.book, `legacy patched by ${c.who}`)).toBe(allowed ? 1 : 0),
  },
  {
    // Moving an entry into a book is recording in it: as a create naming the book.
    name: 'PATCH /api/transactions/{id}/ moves the caller\'s own entry into the shared book',
    fn: 'update-transaction',
    setup: async (c) => {
      const [row] = await sql<{ id: string }>(
        `INSERT INTO transactions (user_id, book_id, type, amount, description, created_by, updated_by) VALUES ($1, $2, 'expense', 4.00, $3, $1, $1) RETURNING id`,
        [c.caller.id, ownBook[c.who], `moved in by ${c.who}`],
      );
      return row!.id;
    },
    request: (c) => byId('/api/transactions/', c.target!, { method: 'PATCH', body: { book: c.fx.book } }),
    expected: by(200, 200, 200, 403, AS_FILTER),
    field: 'book',
    effect: async (c, allowed) => expect(await described(c.fx.book, `moved in by ${c.who}`)).toBe(allowed ? 1 : 0),
  },
  {
    name: 'PATCH /api/transactions/{id}/ moves the operator\'s entry out to the caller\'s own book',
    fn: 'update-transaction',
    fresh: true,
    request: (c) => byId('/api/transactions/', c.fx.operatorEntry, { method: 'PATCH', body: { book: ownBook[c.who] } }),
    expected: by(200, 200, 200, 403),
    effect: async (c, allowed) => {
      const [row] = await sql<{ book_id: string }>('SELECT book_id FROM transactions WHERE id = $1', [c.fx.operatorEntry]);
      expect(row!.book_id).toBe(allowed ? ownBook[c.who] : c.fx.book);
    },
  },
  {
    name: 'DELETE /api/transactions/{id}/ (recorded by the owner)',
    fn: 'delete-transaction',
    fresh: true,
    request: (c) => byId('/api/transactions/', c.fx.ownerEntry, { method: 'DELETE' }),
    expected: by(204, 204, 403, 403),
    effect: async (c, allowed) => expect(await exists('transactions', c.fx.ownerEntry)).toBe(!allowed),
  },
  {
    name: 'DELETE /api/transactions/{id}/ (recorded by the operator)',
    fn: 'delete-transaction',
    fresh: true,
    request: (c) => byId('/api/transactions/', c.fx.operatorEntry, { method: 'DELETE' }),
    expected: by(204, 204, 204, 403),
    effect: async (c, allowed) => expect(await exists('transactions', c.fx.operatorEntry)).toBe(!allowed),
  },

  // -- history and activity
  {
    name: 'GET /api/transactions/{id}/history/',
    fn: 'get-transaction-history',
    request: (c) => byId('/api/transactions/', c.fx.ownerEntry, { path: `/api/transactions/${c.fx.ownerEntry}/history/` }),
    expected: READ,
    verify: (res) => expect(res.body[0]).toMatchObject({ version: 1, action: 'created' }),
  },
  {
    name: 'GET /api/transactions/{id}/history/ of a deleted entry',
    fn: 'get-transaction-history',
    request: (c) => byId('/api/transactions/', c.fx.deletedEntry, { path: `/api/transactions/${c.fx.deletedEntry}/history/` }),
    expected: READ,
    verify: (res) => expect((res.body as Array<{ action: string }>).map((v) => v.action)).toEqual(['created', 'deleted']),
  },
  {
    name: 'GET /api/books/{id}/activity/',
    fn: 'list-book-activity',
    request: (c) => ({ path: `/api/books/${c.fx.book}/activity/`, pathParameters: { id: c.fx.book } }),
    expected: READ,
    verify: (res) => expect(res.body.count).toBeGreaterThan(0),
  },

  // -- transfers
  {
    name: 'POST /api/transfers/ from the shared book to the caller\'s own book',
    fn: 'create-transfer',
    request: (c) => ({ method: 'POST', path: '/api/transfers/', body: { from_book: c.fx.book, to_book: ownBook[c.who], amount: '2.00', description: `transfer by ${c.who}` } }),
    expected: by(201, 201, 201, 403, AS_FILTER),
    field: 'from_book',
    effect: async (c, allowed) => expect(await described(c.fx.book, `transfer by ${c.who}`)).toBe(allowed ? 1 : 0),
  },
  {
    name: 'POST /api/transfers/ from the caller\'s own book to the shared book',
    fn: 'create-transfer',
    request: (c) => ({ method: 'POST', path: '/api/transfers/', body: { from_book: ownBook[c.who], to_book: c.fx.book, amount: '2.00', description: `transfer in by ${c.who}` } }),
    expected: by(201, 201, 201, 403, AS_FILTER),
    field: 'to_book',
    effect: async (c, allowed) => expect(await described(c.fx.book, `transfer in by ${c.who}`)).toBe(allowed ? 1 : 0),
  },
  {
    name: 'GET /api/transfers/?book=',
    fn: 'list-transfers',
    request: (c) => ({ path: '/api/transfers/', query: { book: c.fx.book } }),
    expected: by(200, 200, 200, 200, AS_FILTER),
    field: 'book',
    verify: (res, c) => expect(ids(res)).toEqual(expect.arrayContaining([c.fx.ownerTransfer, c.fx.operatorTransfer])),
  },
  {
    name: 'GET /api/transfers/ (every book the caller is a member of)',
    fn: 'list-transfers',
    request: () => ({ path: '/api/transfers/', query: { page_size: '100' } }),
    expected: EVERYONE,
    verify: (res, c) => expect(ids(res).includes(c.fx.ownerTransfer)).toBe(MEMBERS.includes(c.who)),
  },
  {
    name: 'GET /api/transfers/{id}/ (recorded by the owner)',
    fn: 'get-transfer',
    request: (c) => byId('/api/transfers/', c.fx.ownerTransfer),
    expected: READ,
    verify: (res, c) => expect(res.body).toMatchObject({ id: c.fx.ownerTransfer, from_book: c.fx.book, to_book: c.fx.other }),
  },
  {
    name: 'PATCH /api/transfers/{id}/ (recorded by the owner)',
    fn: 'update-transfer',
    request: (c) => byId('/api/transfers/', c.fx.ownerTransfer, { method: 'PATCH', body: { description: `transfer patched by ${c.who}` } }),
    expected: by(200, 200, 403, 403),
    effect: async (c, allowed) => expect(await described(c.fx.book, `transfer patched by ${c.who}`)).toBe(allowed ? 1 : 0),
  },
  {
    name: 'PATCH /api/transfers/{id}/ (recorded by the operator)',
    fn: 'update-transfer',
    request: (c) => byId('/api/transfers/', c.fx.operatorTransfer, { method: 'PATCH', body: { description: `op transfer patched by ${c.who}` } }),
    expected: by(200, 200, 200, 403),
    effect: async (c, allowed) => expect(await described(c.fx.book, `op transfer patched by ${c.who}`)).toBe(allowed ? 1 : 0),
  },
  {
    name: 'DELETE /api/transfers/{id}/ (recorded by the owner)',
    fn: 'delete-transfer',
    fresh: true,
    request: (c) => byId('/api/transfers/', c.fx.ownerTransfer, { method: 'DELETE' }),
    expected: by(204, 204, 403, 403),
    effect: async (c, allowed) =>
      expect((await sql('SELECT 1 FROM transactions WHERE transfer_id = $1', [c.fx.ownerTransfer])).length).toBe(allowed ? 0 : 2),
  },
  {
    name: 'DELETE /api/transfers/{id}/ (recorded by the operator)',
    fn: 'delete-transfer',
    fresh: true,
    request: (c) => byId('/api/transfers/', c.fx.operatorTransfer, { method: 'DELETE' }),
    expected: by(204, 204, 204, 403),
    effect: async (c, allowed) =>
      expect((await sql('SELECT 1 FROM transactions WHERE transfer_id = $1', [c.fx.operatorTransfer])).length).toBe(allowed ? 0 : 2),
  },

  // -- receipts
  {
    name: 'GET /api/transactions/{id}/attachments/',
    fn: 'list-attachments',
    request: (c) => ({ path: `/api/transactions/${c.fx.ownerEntry}/attachments/`, pathParameters: { id: c.fx.ownerEntry } }),
    expected: READ,
    verify: (res, c) => expect((res.body as Array<{ id: string }>).map((a) => a.id)).toEqual([c.fx.ownerReceipt]),
  },
  {
    name: 'POST /api/transactions/{id}/attachments/ (an entry the operator recorded)',
    fn: 'create-attachment',
    request: (c) => ({
      method: 'POST',
      path: `/api/transactions/${c.fx.operatorEntry}/attachments/`,
      pathParameters: { id: c.fx.operatorEntry },
      body: { filename: `by ${c.who}.pdf`, content_type: 'application/pdf', size: 10 },
    }),
    expected: by(201, 201, 201, 403),
    effect: async (c, allowed) =>
      expect((await sql('SELECT 1 FROM attachments WHERE transaction_id = $1 AND filename = $2', [c.fx.operatorEntry, `by ${c.who}.pdf`])).length).toBe(allowed ? 1 : 0),
  },
  {
    // Completing ends the caller's own upload (someone else's pending upload is not theirs to
    // complete): a receipt the caller uploaded earlier on the operator's entry (the viewer's as
    // an operator before a change of role; the outsiders' before they lost access). Already
    // complete, it is answered as it is, with no object needed in S3; still a right to attach.
    name: 'POST /api/attachments/{id}/complete/ (the caller\'s own receipt on the operator\'s entry)',
    fn: 'complete-attachment',
    fresh: true,
    setup: (c) => receiptOf(c.fx.operatorEntry, c.caller.id),
    request: (c) => byId('/api/attachments/', c.target!, { method: 'POST', path: `/api/attachments/${c.target}/complete/` }),
    expected: by(200, 200, 200, 403),
    verify: (res, c) => expect(res.body).toMatchObject({ id: c.target, status: 'complete' }),
  },
  {
    name: 'DELETE /api/attachments/{id}/ (the owner\'s receipt on the owner\'s entry)',
    fn: 'delete-attachment',
    fresh: true,
    request: (c) => byId('/api/attachments/', c.fx.ownerReceipt, { method: 'DELETE' }),
    expected: by(204, 204, 403, 403),
    effect: async (c, allowed) => expect(await exists('attachments', c.fx.ownerReceipt)).toBe(!allowed),
  },
  {
    name: 'DELETE /api/attachments/{id}/ (the operator\'s receipt on the operator\'s entry)',
    fn: 'delete-attachment',
    fresh: true,
    request: (c) => byId('/api/attachments/', c.fx.operatorReceipt, { method: 'DELETE' }),
    expected: by(204, 204, 204, 403),
    effect: async (c, allowed) => expect(await exists('attachments', c.fx.operatorReceipt)).toBe(!allowed),
  },

  // -- statements
  {
    name: 'GET /api/books/{id}/statement.pdf',
    fn: 'get-book-statement-pdf',
    request: (c) => ({ path: `/api/books/${c.fx.book}/statement.pdf`, pathParameters: { id: c.fx.book }, query: JANUARY }),
    expected: READ,
  },
  {
    name: 'GET /api/books/{id}/statement.xlsx',
    fn: 'get-book-statement-xlsx',
    request: (c) => ({ path: `/api/books/${c.fx.book}/statement.xlsx`, pathParameters: { id: c.fx.book }, query: JANUARY }),
    expected: READ,
  },

  // -- members
  {
    name: 'GET /api/books/{id}/members/',
    fn: 'list-book-members',
    request: (c) => ({ path: `/api/books/${c.fx.book}/members/`, pathParameters: { id: c.fx.book } }),
    expected: by(200, 200, 403, 403),
    verify: (res, c) => {
      const listed = res.body as Array<{ user: { id: number }; role: string; status: string }>;
      expect(listed).toContainEqual(expect.objectContaining({ user: expect.objectContaining({ id: users.owner.id }), role: 'owner', status: 'active' }));
      expect(listed).toContainEqual(expect.objectContaining({ user: expect.objectContaining({ id: c.fx.subOperator }), role: 'operator', status: 'active' }));
      // Departures are not members.
      expect(listed.some((m) => m.user.id === users.removed.id)).toBe(false);
    },
  },
  {
    name: 'POST /api/books/{id}/members/ (invite an operator)',
    fn: 'invite-book-member',
    fresh: true,
    request: (c) => ({ method: 'POST', path: `/api/books/${c.fx.book}/members/`, pathParameters: { id: c.fx.book }, body: { username: c.fx.candidate.username, role: 'operator' } }),
    expected: by(201, 201, 403, 403),
    effect: async (c, allowed) =>
      expect(await memberRow(c.fx.book, c.fx.candidate.id)).toEqual(allowed ? { role: 'operator', status: 'pending' } : undefined),
  },
  {
    name: 'POST /api/books/{id}/members/ (invite an admin)',
    fn: 'invite-book-member',
    fresh: true,
    request: (c) => ({ method: 'POST', path: `/api/books/${c.fx.book}/members/`, pathParameters: { id: c.fx.book }, body: { username: c.fx.candidate.username, role: 'admin' } }),
    expected: by(201, 403, 403, 403),
    effect: async (c, allowed) =>
      expect(await memberRow(c.fx.book, c.fx.candidate.id)).toEqual(allowed ? { role: 'admin', status: 'pending' } : undefined),
  },
  {
    name: 'PATCH /api/books/{id}/members/{user_id}/ (an operator made viewer)',
    fn: 'update-book-member',
    fresh: true,
    request: (c) => member(c.fx.book, c.fx.subOperator, { method: 'PATCH', body: { role: 'viewer' } }),
    expected: by(200, 403, 403, 403),
    effect: async (c, allowed) =>
      expect(await memberRow(c.fx.book, c.fx.subOperator)).toEqual({ role: allowed ? 'viewer' : 'operator', status: 'active' }),
  },
  {
    name: 'DELETE /api/books/{id}/members/{user_id}/ (remove an operator)',
    fn: 'remove-book-member',
    fresh: true,
    request: (c) => member(c.fx.book, c.fx.subOperator, { method: 'DELETE' }),
    expected: by(204, 204, 403, 403),
    effect: async (c, allowed) => expect((await memberRow(c.fx.book, c.fx.subOperator))!.status).toBe(allowed ? 'removed' : 'active'),
  },
  {
    name: 'DELETE /api/books/{id}/members/{user_id}/ (remove an admin)',
    fn: 'remove-book-member',
    fresh: true,
    request: (c) => member(c.fx.book, c.fx.subAdmin, { method: 'DELETE' }),
    expected: by(204, 403, 403, 403),
    effect: async (c, allowed) => expect((await memberRow(c.fx.book, c.fx.subAdmin))!.status).toBe(allowed ? 'removed' : 'active'),
  },
  {
    // Every member may leave; the owner only after handing ownership on (409).
    name: 'DELETE /api/books/{id}/members/{own id}/ (leave)',
    fn: 'remove-book-member',
    fresh: true,
    request: (c) => member(c.fx.book, c.caller.id, { method: 'DELETE' }),
    expected: by(409, 204, 204, 204),
    effect: async (c, allowed) => {
      const row = await memberRow(c.fx.book, c.caller.id);
      if (allowed) expect(row!.status).toBe('left');
      else expect(row?.status).not.toBe('left');
    },
  },
  {
    name: 'POST /api/books/{id}/transfer/ (ownership to an admin)',
    fn: 'transfer-book-ownership',
    fresh: true,
    request: (c) => ({ method: 'POST', path: `/api/books/${c.fx.book}/transfer/`, pathParameters: { id: c.fx.book }, body: { user_id: c.fx.subAdmin } }),
    expected: by(200, 403, 403, 403),
    effect: async (c, allowed) => {
      const [owner] = await sql<{ user_id: string }>(`SELECT user_id FROM book_members WHERE book_id = $1 AND role = 'owner'`, [c.fx.book]);
      expect(Number(owner!.user_id)).toBe(allowed ? c.fx.subAdmin : users.owner.id);
      if (allowed) expect(await memberRow(c.fx.book, users.owner.id)).toEqual({ role: 'admin', status: 'active' });
    },
  },

  // -- invitations (the caller's own: only the pending invitee has one to answer)
  {
    name: 'GET /api/invitations/ shows the pending invitation to its invitee only',
    fn: 'list-invitations',
    request: () => ({ path: '/api/invitations/' }),
    expected: EVERYONE,
    verify: (res, c) => expect(JSON.stringify(res.body).includes(c.fx.book)).toBe(c.who === 'pending'),
  },
  {
    name: 'POST /api/invitations/{book_id}/accept/',
    fn: 'accept-invitation',
    fresh: true,
    request: (c) => ({ method: 'POST', path: `/api/invitations/${c.fx.book}/accept/`, pathParameters: { book_id: c.fx.book } }),
    expected: { owner: 404, admin: 404, operator: 404, viewer: 404, pending: 200, removed: 404, stranger: 404, inactive: 401 },
    verify: (res, c) => expect(res.body).toMatchObject({ id: c.fx.book }),
    effect: async (c, allowed) => {
      if (c.who === 'pending') expect((await memberRow(c.fx.book, c.caller.id))!.status).toBe(allowed ? 'active' : 'pending');
    },
  },
  {
    name: 'POST /api/invitations/{book_id}/decline/',
    fn: 'decline-invitation',
    fresh: true,
    request: (c) => ({ method: 'POST', path: `/api/invitations/${c.fx.book}/decline/`, pathParameters: { book_id: c.fx.book } }),
    expected: { owner: 404, admin: 404, operator: 404, viewer: 404, pending: 204, removed: 404, stranger: 404, inactive: 401 },
    effect: async (c, allowed) => {
      if (c.who === 'pending') expect((await memberRow(c.fx.book, c.caller.id))!.status).toBe(allowed ? 'declined' : 'pending');
    },
  },
];

// ---- the handlers: a row whose function is not written yet is skipped ---------------------------

const handlers = new Map<string, unknown>();
for (const fn of new Set(ROWS.map((r) => r.fn))) {
  if (!existsSync(new URL(`../../../functions/${fn}.ts`, import.meta.url))) continue;
  // The .ts name: Vite resolves a variable import by globbing the folder's files as they are named.
  handlers.set(fn, ((await import(`../../../functions/${fn}.ts`)) as { handler: unknown }).handler);
}

const INACTIVE = { detail: 'User is inactive', code: 'user_inactive' };

/** The answer's shape for each refusal. */
function expectRefusal(res: Reply, status: number, row: Row): void {
  if (status === 401) expect(res.body).toEqual(INACTIVE);
  if (status === 403) expect(res.body).toEqual({ detail: expect.any(String), code: 'permission_denied' });
  if (status === 404) expect(res.body).toEqual({ detail: 'Not found.' });
  if (status === 400) expect(Object.keys(res.body)).toEqual([row.field]);
  if (status === 409) expect(res.body).toEqual(expect.objectContaining({ detail: expect.any(String) }));
}

describe('shared books: every endpoint × every kind of caller', () => {
  beforeAll(async () => {
    await resetData();
    admin = new pg.Client({ connectionString: inject('adminUrl'), application_name: 'cashbook-test-admin' });
    await admin.connect();
    for (const who of CALLERS) {
      users[who] = await signUp(who);
      ownBook[who] = await defaultBookOf(users[who].id);
    }
    // Tokens stay valid; the account does not (SimpleJWT's JWTAuthentication refuses it).
    await sql('UPDATE users SET is_active = false WHERE id = $1', [users.inactive.id]);
    shared = await sharedBook();
  });
  afterAll(async () => {
    await admin?.end();
    await expectNoAppConnections();
  });

  it('has the fixtures the rows assume (memberships, who recorded what, a deleted entry\'s versions)', async () => {
    const members = await sql<{ user_id: string; role: string; status: string }>('SELECT user_id, role, status FROM book_members WHERE book_id = $1', [shared.book]);
    const of = (who: Who) => members.find((m) => Number(m.user_id) === users[who].id);
    expect(of('owner')).toMatchObject({ role: 'owner', status: 'active' });
    for (const who of ['admin', 'operator', 'viewer'] as const) expect(of(who)).toMatchObject({ role: who, status: 'active' });
    expect(of('pending')).toMatchObject({ status: 'pending' });
    expect(of('removed')).toMatchObject({ status: 'removed' });
    expect(of('stranger')).toBeUndefined();
    expect(of('inactive')).toMatchObject({ role: 'admin', status: 'active' });
    expect(await sql('SELECT is_active FROM users WHERE id = $1', [users.inactive.id])).toEqual([{ is_active: false }]);
    const recorded = await sql<{ id: string; user_id: string; created_by: string; legacy: boolean }>(
      'SELECT id, user_id, created_by, legacy FROM transactions WHERE id = ANY($1::uuid[])',
      [[shared.ownerEntry, shared.operatorEntry]],
    );
    expect(recorded.find((t) => t.id === shared.ownerEntry)).toMatchObject({ user_id: String(users.owner.id), created_by: String(users.owner.id), legacy: false });
    expect(recorded.find((t) => t.id === shared.operatorEntry)).toMatchObject({ user_id: String(users.owner.id), created_by: String(users.operator.id), legacy: false });
    const recorders = await sql<{ transfer_id: string; created_by: string }>(
      'SELECT DISTINCT transfer_id, created_by FROM transactions WHERE transfer_id = ANY($1::uuid[])',
      [[shared.ownerTransfer, shared.operatorTransfer]],
    );
    expect(recorders).toHaveLength(2);
    expect(recorders.find((t) => t.transfer_id === shared.operatorTransfer)!.created_by).toBe(String(users.operator.id));
    const versions = await sql('SELECT version, action, actor_id FROM book_activity WHERE transaction_id = $1 ORDER BY version', [shared.deletedEntry]);
    expect(versions).toEqual([
      { version: 1, action: 'created', actor_id: String(users.owner.id) },
      { version: 2, action: 'deleted', actor_id: String(users.owner.id) },
    ]);
  });

  for (const row of ROWS) {
    describe(row.name, () => {
      const handler = handlers.get(row.fn);
      for (const who of CALLERS) {
        const status = row.expected[who];
        const title = `${who}: ${status}`;
        if (!handler) {
          it.skip(`${title} (skipped: functions/${row.fn}.ts is not on this branch yet)`, () => {});
          continue;
        }
        it(title, async () => {
          const c: Case = { who, caller: users[who], fx: row.fresh ? await sharedBook() : shared };
          if (row.setup) c.target = await row.setup(c);
          const res = await invoke(handler, { ...row.request(c), token: users[who].access });
          expect(res.status, `${row.name} as ${who}: ${res.raw?.slice(0, 300)}`).toBe(status);
          if (status < 300) row.verify?.(res, c);
          else expectRefusal(res, status, row);
          await row.effect?.(c, status < 300);
        });
      }
    });
  }
});

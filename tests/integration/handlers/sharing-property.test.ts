import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as acceptInvitation } from '../../../functions/accept-invitation.js';
import { handler as createBook } from '../../../functions/create-book.js';
import { handler as createTx } from '../../../functions/create-transaction.js';
import { handler as declineInvitation } from '../../../functions/decline-invitation.js';
import { handler as deleteTx } from '../../../functions/delete-transaction.js';
import { handler as getBook } from '../../../functions/get-book.js';
import { handler as inviteMember } from '../../../functions/invite-book-member.js';
import { handler as removeMember } from '../../../functions/remove-book-member.js';
import { handler as transferOwnership } from '../../../functions/transfer-book-ownership.js';
import { handler as updateMember } from '../../../functions/update-book-member.js';
import { handler as updateTx } from '../../../functions/update-transaction.js';
import { signUp } from '../../support/accounts.js';
import { adminQuery, expectNoAppConnections, expectTotalsMatchRows, resetData } from '../../support/db.js';
import { invoke, type Reply } from '../../support/events.js';

// Shared books as a state machine (issue 18): random interleavings of four users with changing
// roles — writing, editing and deleting entries, inviting, accepting, declining, removing,
// leaving, changing roles, handing ownership on — against a model of the permission table
// (../shared/API.md, "Shared books"). After every step: the answer's status is the one the
// table gives (404 for a non-member, 403 for a member without the right), the book has exactly
// one owner, its totals equal a recompute from its rows, and replaying each entry's history
// from version 1 gives the entry as it is now (or nothing, once deleted).

type User = Awaited<ReturnType<typeof signUp>>;
type Role = 'owner' | 'admin' | 'operator' | 'viewer';
type Status = 'pending' | 'active' | 'declined' | 'removed' | 'left';

interface Model {
  members: Map<number, { role: Role; status: Status }>;
  entries: Array<{ id: string; recorder: number; deleted: boolean }>;
}

let users: User[] = [];
let book: string;

const roleOf = (m: Model, user: number): Role | undefined => {
  const member = m.members.get(user);
  return member?.status === 'active' ? member.role : undefined;
};
const MANAGE: Role[] = ['owner', 'admin'];
const RECORD: Role[] = ['owner', 'admin', 'operator'];

/** What the table says an action by `actor` ends in, before anything specific to the action. */
function gate(m: Model, actor: number, allowed: Role[]): number | undefined {
  const role = roleOf(m, actor);
  if (!role) return 404;
  if (!allowed.includes(role)) return 403;
  return undefined;
}

function expectAnswer(res: Reply, status: number, what: string): void {
  expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(status);
  if (status === 403) expect(res.body.code).toBe('permission_denied');
}

const user = (i: number) => users[i]!;

// ---- the commands ---------------------------------------------------------------------------

const actorArb = fc.nat(3);
const memberRoleArb = fc.constantFrom<Role>('admin', 'operator', 'viewer');

type Command = fc.AsyncCommand<Model, object>;

class CreateEntry implements Command {
  constructor(readonly actor: number, readonly amount: number) {}
  check = () => true;
  async run(m: Model) {
    const res = await invoke(createTx, {
      method: 'POST', path: '/api/transactions/', token: user(this.actor).access,
      body: { book, type: this.amount % 2 ? 'income' : 'expense', amount: (this.amount / 100).toFixed(2), date: `2026-0${1 + (this.amount % 3)}-1${this.amount % 9}` },
    });
    // Not a member: the book is "not one of the available choices" (400, as for another user's book).
    const want = roleOf(m, this.actor) ? (gate(m, this.actor, RECORD) ?? 201) : 400;
    expectAnswer(res, want, this.toString());
    if (want === 201) {
      expect(res.body.created_by).toEqual({ id: user(this.actor).id, username: user(this.actor).username });
      m.entries.push({ id: res.body.id, recorder: this.actor, deleted: false });
    }
    await stepDone(m);
  }
  toString = () => `create by ${this.actor}`;
}

/** Editing or deleting: owners and admins any entry, operators the ones they recorded. */
function entryGate(m: Model, actor: number, entry: Model['entries'][number]): number | undefined {
  if (entry.deleted) return 404;
  const denied = gate(m, actor, RECORD);
  if (denied) return denied;
  if (roleOf(m, actor) === 'operator' && entry.recorder !== actor) return 403;
  return undefined;
}

class EditEntry implements Command {
  constructor(readonly actor: number, readonly pick: number, readonly amount: number) {}
  check = (m: Readonly<Model>) => m.entries.length > 0;
  async run(m: Model) {
    const entry = m.entries[this.pick % m.entries.length]!;
    const res = await invoke(updateTx, {
      method: 'PATCH', path: `/api/transactions/${entry.id}/`, pathParameters: { id: entry.id }, token: user(this.actor).access,
      body: { amount: (this.amount / 100).toFixed(2), description: `by ${this.actor}` },
    });
    const want = entryGate(m, this.actor, entry) ?? 200;
    expectAnswer(res, want, this.toString());
    if (want === 200) expect(res.body.updated_by).toEqual({ id: user(this.actor).id, username: user(this.actor).username });
    await stepDone(m);
  }
  toString = () => `edit #${this.pick} by ${this.actor}`;
}

class DeleteEntry implements Command {
  constructor(readonly actor: number, readonly pick: number) {}
  check = (m: Readonly<Model>) => m.entries.length > 0;
  async run(m: Model) {
    const entry = m.entries[this.pick % m.entries.length]!;
    const res = await invoke(deleteTx, { method: 'DELETE', path: `/api/transactions/${entry.id}/`, pathParameters: { id: entry.id }, token: user(this.actor).access });
    const want = entryGate(m, this.actor, entry) ?? 204;
    expectAnswer(res, want, this.toString());
    if (want === 204) entry.deleted = true;
    await stepDone(m);
  }
  toString = () => `delete #${this.pick} by ${this.actor}`;
}

class Invite implements Command {
  constructor(readonly actor: number, readonly target: number, readonly role: Role) {}
  check = () => this.actor !== this.target;
  async run(m: Model) {
    const res = await invoke(inviteMember, {
      method: 'POST', path: `/api/books/${book}/members/`, pathParameters: { id: book }, token: user(this.actor).access,
      body: { username: user(this.target).username, role: this.role },
    });
    const current = m.members.get(this.target)?.status;
    let want = gate(m, this.actor, this.role === 'admin' ? ['owner'] : MANAGE);
    want ??= current === 'active' || current === 'pending' ? 409 : 201;
    expectAnswer(res, want, this.toString());
    if (want === 201) m.members.set(this.target, { role: this.role, status: 'pending' });
    await stepDone(m);
  }
  toString = () => `invite ${this.target} as ${this.role} by ${this.actor}`;
}

class Answer implements Command {
  constructor(readonly target: number, readonly accept: boolean) {}
  check = () => true;
  async run(m: Model) {
    const handler = this.accept ? acceptInvitation : declineInvitation;
    const res = await invoke(handler, {
      method: 'POST', path: `/api/invitations/${book}/${this.accept ? 'accept' : 'decline'}/`, pathParameters: { book_id: book }, token: user(this.target).access,
    });
    const member = m.members.get(this.target);
    const want = member?.status === 'pending' ? (this.accept ? 200 : 204) : 404;
    expectAnswer(res, want, this.toString());
    if (member && want !== 404) member.status = this.accept ? 'active' : 'declined';
    if (want === 200) expect(res.body.role).toBe(member!.role);
    await stepDone(m);
  }
  toString = () => `${this.accept ? 'accept' : 'decline'} by ${this.target}`;
}

class Remove implements Command {
  constructor(readonly actor: number, readonly target: number) {}
  // The owner is never removed by another (handing ownership on comes first); leaving is below.
  check = (m: Readonly<Model>) => this.actor !== this.target && m.members.get(this.target)?.status === 'active' && m.members.get(this.target)?.role !== 'owner';
  async run(m: Model) {
    const res = await invoke(removeMember, {
      method: 'DELETE', path: `/api/books/${book}/members/${user(this.target).id}/`,
      pathParameters: { id: book, user_id: String(user(this.target).id) }, token: user(this.actor).access,
    });
    const target = m.members.get(this.target)!;
    const want = gate(m, this.actor, target.role === 'admin' ? ['owner'] : MANAGE) ?? 204;
    expectAnswer(res, want, this.toString());
    if (want === 204) target.status = 'removed';
    await stepDone(m);
  }
  toString = () => `remove ${this.target} by ${this.actor}`;
}

class Leave implements Command {
  constructor(readonly actor: number) {}
  check = () => true;
  async run(m: Model) {
    const res = await invoke(removeMember, {
      method: 'DELETE', path: `/api/books/${book}/members/${user(this.actor).id}/`,
      pathParameters: { id: book, user_id: String(user(this.actor).id) }, token: user(this.actor).access,
    });
    const role = roleOf(m, this.actor);
    const want = !role ? 404 : role === 'owner' ? 409 : 204;
    expectAnswer(res, want, this.toString());
    if (want === 204) m.members.get(this.actor)!.status = 'left';
    await stepDone(m);
  }
  toString = () => `leave by ${this.actor}`;
}

class ChangeRole implements Command {
  constructor(readonly actor: number, readonly target: number, readonly role: Role) {}
  check = (m: Readonly<Model>) => this.actor !== this.target && m.members.get(this.target)?.status === 'active' && m.members.get(this.target)?.role !== 'owner';
  async run(m: Model) {
    const res = await invoke(updateMember, {
      method: 'PATCH', path: `/api/books/${book}/members/${user(this.target).id}/`,
      pathParameters: { id: book, user_id: String(user(this.target).id) }, token: user(this.actor).access, body: { role: this.role },
    });
    const want = gate(m, this.actor, ['owner']) ?? 200;
    expectAnswer(res, want, this.toString());
    if (want === 200) m.members.get(this.target)!.role = this.role;
    await stepDone(m);
  }
  toString = () => `role of ${this.target} to ${this.role} by ${this.actor}`;
}

class HandOver implements Command {
  constructor(readonly actor: number, readonly target: number) {}
  check = (m: Readonly<Model>) => this.actor !== this.target && m.members.get(this.target)?.status === 'active';
  async run(m: Model) {
    const res = await invoke(transferOwnership, {
      method: 'POST', path: `/api/books/${book}/transfer/`, pathParameters: { id: book }, token: user(this.actor).access,
      body: { user_id: user(this.target).id },
    });
    const want = gate(m, this.actor, ['owner']) ?? 200;
    expectAnswer(res, want, this.toString());
    if (want === 200) {
      m.members.get(this.actor)!.role = 'admin';
      m.members.get(this.target)!.role = 'owner';
    }
    await stepDone(m);
  }
  toString = () => `hand over to ${this.target} by ${this.actor}`;
}

const commandArb = [
  fc.tuple(actorArb, fc.integer({ min: 1, max: 99_999 })).map(([a, n]) => new CreateEntry(a, n)),
  fc.tuple(actorArb, fc.nat(), fc.integer({ min: 1, max: 99_999 })).map(([a, p, n]) => new EditEntry(a, p, n)),
  fc.tuple(actorArb, fc.nat()).map(([a, p]) => new DeleteEntry(a, p)),
  fc.tuple(actorArb, actorArb, memberRoleArb).map(([a, t, r]) => new Invite(a, t, r)),
  fc.tuple(actorArb, fc.boolean()).map(([t, yes]) => new Answer(t, yes)),
  fc.tuple(actorArb, actorArb).map(([a, t]) => new Remove(a, t)),
  actorArb.map((a) => new Leave(a)),
  fc.tuple(actorArb, actorArb, memberRoleArb).map(([a, t, r]) => new ChangeRole(a, t, r)),
  fc.tuple(actorArb, actorArb).map(([a, t]) => new HandOver(a, t)),
];

// ---- the invariants -------------------------------------------------------------------------

/** Replays an entry's versions from the first; the result must be the entry as it is now. */
async function expectHistoryReplays(m: Model): Promise<void> {
  for (const entry of m.entries) {
    const versions = await adminQuery<{ version: number; action: string; changes: Record<string, [unknown, unknown]> }>(
      'SELECT version, action, changes FROM book_activity WHERE transaction_id = $1 ORDER BY version',
      [entry.id],
    );
    expect(versions.map((v) => v.version)).toEqual(versions.map((_, i) => i + 1));
    let state: Record<string, unknown> | null = null;
    for (const v of versions) {
      if (v.action === 'deleted') {
        state = null;
        continue;
      }
      state = { ...(state ?? {}) };
      for (const [field, [, value]] of Object.entries(v.changes)) state[field] = value;
    }
    const [row] = await adminQuery<{ fields: Record<string, unknown> }>('SELECT cashbook_entry_fields(t) AS fields FROM transactions t WHERE t.id = $1', [entry.id]);
    expect(state, `history of ${entry.id}`).toEqual(row?.fields ?? null);
    expect(versions.at(-1)?.action === 'deleted', `last version of ${entry.id}`).toBe(entry.deleted);
  }
}

async function expectOneOwner(m: Model): Promise<void> {
  const owners = await adminQuery<{ user_id: string }>(`SELECT user_id FROM book_members WHERE book_id = $1 AND role = 'owner'`, [book]);
  const modelOwner = [...m.members].find(([, v]) => v.role === 'owner')![0];
  expect(owners.map((o) => Number(o.user_id))).toEqual([user(modelOwner).id]);
}

/** What each user sees of the book: an active member the book with their role, anyone else 404. */
async function expectVisibility(m: Model): Promise<void> {
  for (let i = 0; i < users.length; i++) {
    const res = await invoke(getBook, { path: `/api/books/${book}/`, pathParameters: { id: book }, token: user(i).access });
    const role = roleOf(m, i);
    expect(res.status, `book seen by ${i}`).toBe(role ? 200 : 404);
    if (role) expect(res.body.role).toBe(role);
  }
}

/** After every step. */
async function stepDone(m: Model): Promise<void> {
  await expectOneOwner(m);
  await expectTotalsMatchRows('book_totals', 'true');
}

describe('shared books: random interleavings of members against the permission table', () => {
  beforeAll(async () => {
    await resetData();
    users = [];
    for (let i = 0; i < 4; i++) users.push(await signUp(`share${i}`));
  });
  afterAll(() => expectNoAppConnections());

  it('answers as the table says, keeps one owner, exact totals and a history that replays to each entry', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commandArb, { maxCommands: 25 }), async (commands) => {
        const made = await invoke(createBook, { method: 'POST', path: '/api/books/', token: user(0).access, body: { name: 'Shared' } });
        expect(made.status).toBe(201);
        book = made.body.id;
        const model: Model = { members: new Map([[0, { role: 'owner', status: 'active' }]]), entries: [] };
        await fc.asyncModelRun(() => ({ model, real: {} }), commands);
        await expectVisibility(model);
        await expectHistoryReplays(model);
      }),
      { numRuns: 15, endOnFailure: true },
    );
  }, 600_000);
});

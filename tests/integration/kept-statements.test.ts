import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { accountRefusal } from '../../lib/auth/active-user.js';
import { withConnection, type Db } from '../../lib/db.js';
import { AccountRefused, ValidationError } from '../../lib/errors.js';
import { KEPT_CATALOG } from '../../lib/kept-catalog.js';
import { KEPT_PREFIX, keptName, keptStatements } from '../../lib/kept.js';
import { listLedger, listStatement } from '../../lib/transactions/list.js';
import { insertTransaction } from '../../lib/transactions/queries.js';
import { transactionFiltersQuery } from '../../lib/transactions/schema.js';
import { withAdmin } from '../../scripts/lib/database-setup.js';
import { syncKept } from '../../scripts/lib/kept-sync.js';
import { signUp } from '../support/accounts.js';
import { adminQuery, expectNoAppConnections, resetData } from '../support/db.js';
import { invoke } from '../support/events.js';
import { handler as createTransaction } from '../../functions/create-transaction.js';
import { defaultBookOf } from '../support/sharing.js';

// Kept statements (lib/kept.ts): the migrated database holds one function per kept shape, whose
// body is exactly the text this code generates; requests of those shapes call it and get what
// the text itself returns; a missing function (a deploy before its migrate) costs speed, never
// an answer; the migrate step replaces what changed and drops what this code no longer sends.

const root = fileURLToPath(new URL('../..', import.meta.url));
const keptTexts = () => KEPT_CATALOG.flatMap((set) => set.texts());

const functionsNamed = (names: string[]) =>
  adminQuery<{ name: string; body: string; config: string[] | null }>('SELECT proname AS name, prosrc AS body, proconfig AS config FROM pg_proc WHERE proname = ANY($1)', [names]);

/** A Db that records what it sends, over a real connection, as a pooler's (DB_POOLED) unless told. */
function recording(db: Db, sent: string[], pooled = true): Db {
  return { pooled, query: (text, values) => (sent.push(text), db.query(text, values)) };
}

describe('kept statements', () => {
  let user: { id: number; issuedAt: number };
  let book: string;

  beforeAll(async () => {
    await resetData();
    const alice = await signUp('kept');
    user = { id: alice.id, issuedAt: Math.floor(Date.now() / 1000) };
    book = await defaultBookOf(alice.id);
    for (let i = 0; i < 7; i++) {
      const body = { book, type: i % 3 ? 'expense' : 'income', amount: `${i + 1}.25`, category: 'kept', date: `2026-0${(i % 3) + 1}-1${i}` };
      expect((await invoke(createTransaction, { method: 'POST', path: '/api/transactions/', body, token: alice.access })).status).toBe(201);
    }
  });
  afterAll(() => expectNoAppConnections());

  it('lists every set of kept shapes in the catalog migrate reads', () => {
    const sources = readdirSync(join(root, 'lib'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && f !== 'kept.ts');
    const sets = sources.flatMap((f) => readFileSync(join(root, 'lib', f), 'utf8').match(/= (\/\* @__PURE__ \*\/ )?keptStatements\(/g) ?? []);
    expect(sets.length).toBe(KEPT_CATALOG.length);
  });

  it('has a function for every kept shape, whose body is the text this code sends', async () => {
    const texts = keptTexts();
    expect(texts.length).toBeGreaterThan(0);
    const found = await functionsNamed(texts.map(keptName));
    for (const text of texts) {
      const fn = found.find((f) => f.name === keptName(text));
      expect(fn, `no function for:\n${text}`).toBeDefined();
      expect(fn!.body).toContain(`RETURN QUERY ${text};`);
      expect(fn!.config).toEqual(['plan_cache_mode=force_generic_plan']);
    }
  });

  it('serves the first page, whole list and one book, through the function, with the rows the text returns', async () => {
    for (const filters of [{}, { book }, { book, ordering: '-date' }]) {
      const parsed = transactionFiltersQuery.parse(filters);
      const sent: string[] = [];
      const kept = await withConnection((db) => listLedger(recording(db, sent), user, parsed, { limit: 5, offset: 0 }));
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatch(new RegExp(`^SELECT \\* FROM ${KEPT_PREFIX}[0-9a-f]{24}\\(\\$1, `));
      const { text, values } = listStatement(user, parsed, { limit: 5, offset: 0 });
      const { rows } = await withConnection((db) => db.query<Record<string, unknown>>(text, values));
      expect(kept.count).toBe(7);
      expect(kept.rows.map((r) => [r.id, r.balance_after, r.created_by])).toEqual(rows.map((r) => [r.id, r.balance_after, r.created_by]));
      expect(kept.rows).toHaveLength(5);
    }
  });

  it('serves the create through its function, with and without a saved response, with what the text returns', async () => {
    const input = { book, type: 'income' as const, amount: '3.50', category: 'kept', description: 'through the function', payment_mode: 'cash' as const };
    /** A create's row and saved response, without what differs between any two creates (id, times). */
    const create = async (pooled: boolean, key?: string) => {
      const save = key ? { claim: { userId: user.id, issuedAt: user.issuedAt, key, hash: 'h' }, status: 201 } : undefined;
      if (key) await adminQuery(`INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1, $2, 'h')`, [user.id, key]);
      const sent: string[] = [];
      const created = await withConnection((db) => insertTransaction(recording(db, sent, pooled), user, input, save));
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatch(pooled ? new RegExp(`^SELECT \\* FROM ${KEPT_PREFIX}[0-9a-f]{24}\\(\\$1, `) : /^WITH book AS/);
      expect(created.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const [saved] = key ? await adminQuery<{ response: string }>('SELECT response FROM idempotency_keys WHERE user_id = $1 AND key = $2', [user.id, key]) : [];
      const generic = (text: string) => text.replaceAll(created.id, '<id>').replaceAll(created.created_at, '<at>');
      return { row: generic(JSON.stringify(created)), saved: saved && generic(saved.response) };
    };
    for (const key of [undefined, 'kept-create']) {
      const kept = await create(true, key && `${key}-kept`);
      expect(kept).toEqual(await create(false, key && `${key}-text`));
      expect(JSON.parse(kept.row)).toMatchObject({ book, amount: '3.50', created_by: { id: user.id, username: expect.any(String) } });
      if (key) expect(JSON.parse(kept.saved!)).toMatchObject({ amount: '3.50', description: 'through the function' });
    }
  });

  it('refuses through the create function as through the text: an unknown book, a deactivated account', async () => {
    const input = { type: 'expense' as const, amount: '1.00', category: '', description: '', payment_mode: 'cash' as const };
    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const pooled of [true, false]) {
      await expect(withConnection((db) => insertTransaction(recording(db, [], pooled), user, { ...input, book: unknown }))).rejects.toBeInstanceOf(ValidationError);
    }
    await adminQuery('UPDATE users SET is_active = false WHERE id = $1', [user.id]);
    try {
      for (const pooled of [true, false]) {
        // lib/http/api.ts turns it into SimpleJWT's 401 (accountRefusal).
        const refused = await withConnection((db) => insertTransaction(recording(db, [], pooled), user, input)).catch((err: unknown) => err);
        expect(accountRefusal(refused)).toBeInstanceOf(AccountRefused);
      }
    } finally {
      await adminQuery('UPDATE users SET is_active = true WHERE id = $1', [user.id]);
    }
  });

  it('sends the text in direct mode, where each request has a fresh backend to plan it anyway', async () => {
    const sent: string[] = [];
    const listed = await withConnection((db) => listLedger(recording(db, sent, false), user, transactionFiltersQuery.parse({}), { limit: 5, offset: 0 }));
    expect(listed.rows).toHaveLength(5);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(/^WITH /);
  });

  it('sends other shapes (a later page, a filter) as text', async () => {
    for (const [filters, slice] of [[{ type: 'income' }, { limit: 5, offset: 0 }], [{}, { limit: 5, offset: 5 }]] as const) {
      const sent: string[] = [];
      await withConnection((db) => listLedger(recording(db, sent), user, transactionFiltersQuery.parse(filters), slice));
      expect(sent[0]).toMatch(/^WITH /);
    }
  });

  it('falls back to the text when the function is missing, then sync restores it and drops the stray one', async () => {
    const [text] = keptTexts();
    const name = keptName(text!);
    const stray = `${KEPT_PREFIX}000000000000000000000000`;
    await adminQuery(`ALTER FUNCTION ${name} RENAME TO ${stray}`);
    try {
      const sent: string[] = [];
      const listed = await withConnection((db) => listLedger(recording(db, sent), user, transactionFiltersQuery.parse({}), { limit: 5, offset: 0 }));
      expect(listed.rows).toHaveLength(5);
      expect(sent).toHaveLength(2);
      expect(sent[0]).toMatch(new RegExp(`^SELECT \\* FROM ${name}\\(`));
      expect(sent[1]).toMatch(/^WITH /);
      // This process remembers: no failed call first from now on.
      sent.length = 0;
      await withConnection((db) => listLedger(recording(db, sent), user, transactionFiltersQuery.parse({}), { limit: 5, offset: 0 }));
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatch(/^WITH /);
    } finally {
      const synced = await withAdmin(inject('adminUrl'), (c) => syncKept(c));
      expect(synced).toEqual({ created: [name], dropped: [stray] });
    }
    expect(await functionsNamed([name, stray])).toEqual([expect.objectContaining({ name })]);
  });

  it('leaves an unchanged function alone and replaces one whose definition changed', async () => {
    expect(await withAdmin(inject('adminUrl'), (c) => syncKept(c))).toEqual({ created: [], dropped: [] });
    const name = keptName(keptTexts()[0]!);
    await adminQuery(`COMMENT ON FUNCTION ${name} IS 'an older definition'`);
    expect(await withAdmin(inject('adminUrl'), (c) => syncKept(c))).toEqual({ created: [name], dropped: [] });
  });

  it('fails a migrate whose kept statement the server refuses, with its error, and changes nothing', async () => {
    const broken = keptStatements('broken', () => ['SELECT no_such_column FROM users']);
    await expect(withAdmin(inject('adminUrl'), (c) => syncKept(c, [...KEPT_CATALOG, broken])))
      .rejects.toThrow(/no_such_column/);
    expect(await withAdmin(inject('adminUrl'), (c) => syncKept(c))).toEqual({ created: [], dropped: [] });
  });
});

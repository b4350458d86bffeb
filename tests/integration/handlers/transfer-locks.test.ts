import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { handler as createBook } from '../../../functions/create-book.js';
import { handler as deleteBook } from '../../../functions/delete-book.js';
import { handler as deleteTx } from '../../../functions/delete-transaction.js';
import { handler as replaceTx } from '../../../functions/replace-transaction.js';
import { handler as updateTx } from '../../../functions/update-transaction.js';
import { handler as createTransfer } from '../../../functions/create-transfer.js';
import { handler as deleteTransfer } from '../../../functions/delete-transfer.js';
import { handler as updateTransfer } from '../../../functions/update-transfer.js';
import type { Db } from '../../../lib/db.js';
import { deleteBook as deleteBookQuery } from '../../../lib/books/queries.js';
import { deleteTransaction, updateTransaction } from '../../../lib/transactions/queries.js';
import { deleteTransfer as deleteTransferQuery, updateTransfer as updateTransferQuery } from '../../../lib/transfers/queries.js';
import { signUp } from '../../support/accounts.js';
import { adminQuery, expectNoAppConnections, resetData } from '../../support/db.js';
import { invoke } from '../../support/events.js';

// Issue 20, the deadlock a reviewer reproduced: a transfer's two rows must be locked in one order
// by every statement that writes the pair. Once one side has been rewritten alone (a description
// edit moves its row version to a later place in the heap), a statement that finds the pair in
// physical order (`id = … OR transfer_id = …`) meets the income row first, while one reading the
// (transfer_id, type) index meets the expense row first: run at the same moment, each holds one
// row and waits for the other, and PostgreSQL kills one with 40P01 (a 500).

type User = Awaited<ReturnType<typeof signUp>>;
let alice: User;
let cash: string;
let bank: string;

interface Pair { id: string; from_entry: { id: string }; to_entry: { id: string } }

const newBook = async (name: string) => {
  const res = await invoke(createBook, { method: 'POST', path: '/api/books/', token: alice.access, body: { name, currency: 'INR' } });
  expect(res.status).toBe(201);
  return res.body.id as string;
};
const byId = (handler: unknown, path: string, id: string, extra: { method?: string; body?: object; query?: Record<string, string> } = {}) =>
  invoke(handler, {
    method: extra.method ?? 'GET', path: `${path}${id}/`, pathParameters: { id }, token: alice.access,
    ...(extra.body ? { body: extra.body } : {}), ...(extra.query ? { query: extra.query } : {}),
  });
const newPair = async (i: number): Promise<Pair> => {
  const res = await invoke(createTransfer, {
    method: 'POST', path: '/api/transfers/', token: alice.access, body: { from_book: cash, to_book: bank, amount: `${i + 1}.00`, date: '2026-05-01' },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as Pair;
};
/** Rewrites the sending side alone, so that its live row version now lies after the receiving side's. */
const moveExpenseSide = async (pair: Pair, round: number) => {
  const res = await byId(updateTx, '/api/transactions/', pair.from_entry.id, { method: 'PATCH', body: { description: `moved ${round}` } });
  expect(res.status).toBe(200);
};
const rows = (transferId: string) =>
  adminQuery<{ type: string; date: string; amount: string }>(
    `SELECT type, date::text, amount::text FROM transactions WHERE transfer_id = $1 ORDER BY type`,
    [transferId],
  );
const day = (round: number, side: number) => `2026-06-${String(1 + ((round * 2 + side) % 28)).padStart(2, '0')}`;

describe('transfers: every statement locks a pair in one order', () => {
  beforeAll(async () => {
    await resetData();
    alice = await signUp('alice');
    cash = await newBook('Cash');
    bank = await newBook('Bank');
  });
  afterAll(() => expectNoAppConnections());

  it('serves PATCH of the receiving entry against PATCH of its transfer, after the sending side moved', async () => {
    const pairs = await Promise.all(Array.from({ length: 4 }, (_, i) => newPair(i)));
    const failures: string[] = [];
    for (let round = 0; round < 8; round += 1) {
      for (const pair of pairs) await moveExpenseSide(pair, round);
      const results = await Promise.all(pairs.flatMap((pair) => [
        byId(updateTx, '/api/transactions/', pair.to_entry.id, { method: 'PATCH', body: { date: day(round, 0) } }),
        byId(updateTransfer, '/api/transfers/', pair.id, { method: 'PATCH', body: { date: day(round, 1) } }),
      ]));
      for (const r of results) if (r.status !== 200) failures.push(`round ${round}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    expect(failures).toEqual([]);
    for (const pair of pairs) {
      const [expense, income] = await rows(pair.id);
      expect([expense?.type, income?.type]).toEqual(['expense', 'income']);
      expect(income!.date).toBe(expense!.date);
    }
  });

  it('serves PUT of the receiving entry against PATCH of its transfer, after the sending side moved', async () => {
    const pairs = await Promise.all(Array.from({ length: 4 }, (_, i) => newPair(i)));
    const failures: string[] = [];
    for (let round = 0; round < 6; round += 1) {
      for (const pair of pairs) await moveExpenseSide(pair, round);
      const results = await Promise.all(pairs.flatMap((pair, i) => [
        byId(replaceTx, '/api/transactions/', pair.to_entry.id, {
          method: 'PUT', body: { book: bank, type: 'income', amount: `${i + 1}.00`, category: 'transfer', description: 'put', payment_mode: 'cash', date: day(round, 0) },
        }),
        byId(updateTransfer, '/api/transfers/', pair.id, { method: 'PATCH', body: { date: day(round, 1) } }),
      ]));
      for (const r of results) if (r.status !== 200) failures.push(`round ${round}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    expect(failures).toEqual([]);
    for (const pair of pairs) {
      const [expense, income] = await rows(pair.id);
      expect(income!.date).toBe(expense!.date);
    }
  });

  it('deletes a pair through either endpoint while the other edits it: the pair goes whole or stays whole', async () => {
    const failures: string[] = [];
    for (let round = 0; round < 6; round += 1) {
      const pairs = await Promise.all(Array.from({ length: 4 }, (_, i) => newPair(i)));
      for (const pair of pairs) await moveExpenseSide(pair, round);
      const results = await Promise.all(pairs.flatMap((pair, i) => i % 2 === 0
        ? [
            byId(deleteTx, '/api/transactions/', pair.to_entry.id, { method: 'DELETE' }),
            byId(updateTransfer, '/api/transfers/', pair.id, { method: 'PATCH', body: { date: day(round, 1) } }),
          ]
        : [
            byId(deleteTransfer, '/api/transfers/', pair.id, { method: 'DELETE' }),
            byId(updateTx, '/api/transactions/', pair.to_entry.id, { method: 'PATCH', body: { date: day(round, 0) } }),
          ]));
      // The edit that comes second finds nothing: a 404, never a 500.
      for (const r of results) if (![200, 204, 404].includes(r.status)) failures.push(`round ${round}: ${r.status} ${JSON.stringify(r.body)}`);
      for (const pair of pairs) expect(await rows(pair.id)).toEqual([]);
    }
    expect(failures).toEqual([]);
  });

  it('force-deletes a book while its transfers are edited from the other side: the other side stays, whole', async () => {
    const failures: string[] = [];
    for (let round = 0; round < 5; round += 1) {
      const doomed = await newBook(`Doomed ${round}`);
      const pairs: Pair[] = [];
      for (let i = 0; i < 3; i += 1) {
        const res = await invoke(createTransfer, {
          method: 'POST', path: '/api/transfers/', token: alice.access, body: { from_book: cash, to_book: doomed, amount: `${i + 1}.00`, date: '2026-05-01' },
        });
        expect(res.status).toBe(201);
        pairs.push(res.body as Pair);
      }
      for (const pair of pairs) await moveExpenseSide(pair, round);
      const results = await Promise.all([
        invoke(deleteBook, { method: 'DELETE', path: `/api/books/${doomed}/`, pathParameters: { id: doomed }, token: alice.access, query: { force: 'true' } }),
        ...pairs.map((pair) => byId(updateTransfer, '/api/transfers/', pair.id, { method: 'PATCH', body: { date: day(round, 1) } })),
      ]);
      for (const r of results) if (![200, 204, 404, 409].includes(r.status)) failures.push(`round ${round}: ${r.status} ${JSON.stringify(r.body)}`);
      // Whatever won, no transfer is left with one side.
      const halves = await adminQuery(
        `SELECT transfer_id FROM transactions WHERE user_id = $1 AND transfer_id IS NOT NULL GROUP BY transfer_id HAVING count(*) <> 2`,
        [alice.id],
      );
      expect(halves).toEqual([]);
    }
    expect(failures).toEqual([]);
  });

  // The races above rarely hit the microseconds between a statement's two row locks. These make
  // the order visible: a third session holds the SENDING row; the statement under test must then
  // wait holding nothing — in particular not the receiving row. A statement that takes the
  // receiving row first (physical order) holds it while it waits, and two such statements
  // meeting the pair from opposite ends deadlock.
  describe('lock order, observed with a session holding the sending row', () => {
    const clients: pg.Client[] = [];
    const session = async () => {
      const client = new pg.Client({ connectionString: inject('adminUrl'), application_name: 'cashbook-test-locks' });
      await client.connect();
      clients.push(client);
      return client;
    };
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.end()));
    });

    /** Runs `statement` (a handler's query function on its own session) while the expense row is held; asserts it holds no lock on the income row meanwhile. */
    const expectSendingRowFirst = async (pair: Pair, statement: (db: Db) => Promise<unknown>) => {
      const [holder, runner, probe] = [await session(), await session(), await session()];
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM transactions WHERE id = $1 FOR UPDATE', [pair.from_entry.id]);
      const runnerPid = (await runner.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const running = statement(runner as unknown as Db).then(() => 'done', (err: Error) => err);
      // Until the statement waits on a lock (the holder's).
      for (let i = 0; ; i += 1) {
        const [row] = await adminQuery<{ wait: string | null }>('SELECT wait_event_type AS wait FROM pg_stat_activity WHERE pid = $1', [runnerPid]);
        if (row?.wait === 'Lock') break;
        if (i > 400) throw new Error('the statement never waited for the sending row');
        await new Promise((r) => setTimeout(r, 5));
      }
      let heldIncome = false;
      await probe.query('BEGIN');
      try {
        await probe.query('SELECT 1 FROM transactions WHERE id = $1 FOR UPDATE NOWAIT', [pair.to_entry.id]);
      } catch (err) {
        if ((err as { code?: string }).code !== '55P03') throw err;
        heldIncome = true;
      }
      await probe.query('ROLLBACK');
      await holder.query('COMMIT');
      expect(await running).toBe('done');
      expect(heldIncome, 'the statement locked the receiving row before the sending row').toBe(false);
    };
    const caller = () => ({ id: alice.id, issuedAt: Date.now() / 1000 });
    const movedPair = async (i: number) => {
      const pair = await newPair(i);
      await moveExpenseSide(pair, i);
      return pair;
    };

    it('PATCH and PUT /api/transactions/{receiving side}', async () => {
      const pair = await movedPair(1);
      await expectSendingRowFirst(pair, (db) => updateTransaction(db, caller(), pair.to_entry.id, { date: '2026-07-01' }));
      await moveExpenseSide(pair, 2);
      await expectSendingRowFirst(pair, (db) => updateTransaction(db, caller(), pair.to_entry.id, { amount: '5.00' }));
      const [expense, income] = await rows(pair.id);
      expect([expense!.date, expense!.amount]).toEqual(['2026-07-01', '5.00']);
      expect([income!.date, income!.amount]).toEqual(['2026-07-01', '5.00']);
    });

    it('DELETE /api/transactions/{receiving side}', async () => {
      const pair = await movedPair(3);
      await expectSendingRowFirst(pair, (db) => deleteTransaction(db, caller(), pair.to_entry.id));
      expect(await rows(pair.id)).toEqual([]);
    });

    it('PATCH and DELETE /api/transfers/{id}', async () => {
      const pair = await movedPair(4);
      await expectSendingRowFirst(pair, (db) => updateTransferQuery(db, caller(), pair.id, { date: '2026-07-02' }));
      await moveExpenseSide(pair, 5);
      await expectSendingRowFirst(pair, (db) => deleteTransferQuery(db, caller(), pair.id));
      expect(await rows(pair.id)).toEqual([]);
    });

    // The deadlock itself, made certain: two sessions hold both rows; statement A and statement B
    // queue behind them; the sending row is released first, then the receiving row. Statements
    // that took the rows from opposite ends would each end up holding one and waiting for the
    // other (40P01, before the fix: a PATCH of a fresh pair's date reads it in physical order,
    // sending side first, and the force delete of the receiving book deleted its entries before
    // detaching the other sides).
    it('a PATCH of the pair\'s date and a force delete of its receiving book, meeting the pair at once, both finish', async () => {
      const doomed = await newBook('Doomed by deadlock');
      const res = await invoke(createTransfer, {
        method: 'POST', path: '/api/transfers/', token: alice.access, body: { from_book: cash, to_book: doomed, amount: '8.00', date: '2026-05-01' },
      });
      expect(res.status).toBe(201);
      const pair = res.body as Pair;
      const [holdSending, holdReceiving, a, b] = [await session(), await session(), await session(), await session()];
      for (const [holder, row] of [[holdSending, pair.from_entry.id], [holdReceiving, pair.to_entry.id]] as const) {
        await holder.query('BEGIN');
        await holder.query('SELECT 1 FROM transactions WHERE id = $1 FOR UPDATE', [row]);
      }
      const waiting = async (client: pg.Client) => {
        const pid = (client as unknown as { processID: number }).processID;
        for (let i = 0; i < 400; i += 1) {
          const [row] = await adminQuery<{ wait: string | null }>('SELECT wait_event_type AS wait FROM pg_stat_activity WHERE pid = $1', [pid]);
          if (row?.wait === 'Lock') return;
          await new Promise((r) => setTimeout(r, 5));
        }
        throw new Error('the statement never waited');
      };
      const outcome = (p: Promise<unknown>) => p.then(() => 'done', (err: { code?: string; message?: string }) => `${err.code}: ${err.message}`);
      const edit = outcome(updateTransaction(a as unknown as Db, caller(), pair.to_entry.id, { date: '2026-07-03' }));
      await waiting(a);
      const removal = outcome(deleteBookQuery(b as unknown as Db, caller(), doomed, true));
      await waiting(b);
      await holdSending.query('COMMIT');
      await new Promise((r) => setTimeout(r, 300)); // the first in line takes the sending row
      await holdReceiving.query('COMMIT');
      expect([await edit, await removal]).toEqual(['done', 'done']);
      const [left] = await adminQuery<{ transfer_id: string | null; date: string }>('SELECT transfer_id, date::text FROM transactions WHERE id = $1', [pair.from_entry.id]);
      expect(left).toEqual({ transfer_id: null, date: '2026-07-03' });
    });

    it('DELETE /api/books/{receiving book}/?force=true detaching the sending side', async () => {
      const doomed = await newBook('Doomed by lock order');
      const res = await invoke(createTransfer, {
        method: 'POST', path: '/api/transfers/', token: alice.access, body: { from_book: cash, to_book: doomed, amount: '7.00', date: '2026-05-01' },
      });
      expect(res.status).toBe(201);
      const pair = res.body as Pair;
      await moveExpenseSide(pair, 6);
      await expectSendingRowFirst(pair, (db) => deleteBookQuery(db, caller(), doomed, true));
      const [left] = await adminQuery<{ transfer_id: string | null }>('SELECT transfer_id FROM transactions WHERE id = $1', [pair.from_entry.id]);
      expect(left).toEqual({ transfer_id: null });
    });
  });
});

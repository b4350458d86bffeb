import pg from 'pg';
import { afterAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { handler as obtainToken } from '../../../functions/obtain-token.js';
import { handler as register } from '../../../functions/register.js';
import { login as loginDirect } from '../../../lib/auth/accounts.js';
import { countAttempt, loginKeys, recordSuccess } from '../../../lib/auth/login-limit.js';
import { hashPassword } from '../../../lib/auth/passwords.js';
import { getConfig } from '../../../lib/config.js';
import { newStats, type Db } from '../../../lib/db.js';
import { Throttled } from '../../../lib/errors.js';
import { adminQuery, expectNoAppConnections, resetData } from '../../support/db.js';
import { apiEvent, lambdaContext, type Reply } from '../../support/events.js';

// The login limits against an attacker's patterns (5 failures per (source, username) in 15
// minutes and 20 per username from unknown sources in an hour: the defaults; 12 per source in
// 15 minutes here instead of 50, to keep the run short), and the registration limit (3 per
// source here). Past the source or user limit an unknown source waits LOGIN_DELAY_SECONDS,
// doubling: 2 s by default, 60 s here so that a slow, loaded run cannot outwait a delay by
// accident; the tests move the limits' clock forward instead of sleeping (`advance`). Set
// before the config is read.
vi.hoisted(() => {
  process.env.LOGIN_SOURCE_MAX_FAILURES = '12';
  process.env.REGISTER_MAX_PER_SOURCE = '3';
  process.env.LOGIN_DELAY_SECONDS = '60';
});
const SOURCE_LIMIT = 12;
const USER_LIMIT = 20;
const DELAY = 60;
const MAX_DELAY = 300; // LOGIN_MAX_DELAY_SECONDS' default

// Wraps the real module, so that a test can tell whether a request paid for a hash.
vi.mock('../../../lib/auth/passwords.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../lib/auth/passwords.js')>();
  return { ...real, hashPassword: vi.fn(real.hashPassword) };
});

const PASSWORD = 'correct-horse-battery';
const FAILED = { detail: 'No active account found with the given credentials' };
// Documentation address ranges (RFC 5737 / RFC 3849): labels in events, no traffic is sent.
const ATTACKER = '203.0.113.66';
const VICTIM_HOME = '198.51.100.7';

async function call(handler: unknown, body: unknown, sourceIp: string, path: string): Promise<Reply> {
  const event = apiEvent({ method: 'POST', path, body });
  event.requestContext.http.sourceIp = sourceIp;
  const result = await (handler as (e: unknown, c: unknown) => Promise<{ statusCode: number; body?: string; headers?: Record<string, string> }>)(
    event,
    lambdaContext(),
  );
  return { status: result.statusCode, headers: result.headers ?? {}, body: result.body ? JSON.parse(result.body) : undefined, raw: result.body };
}

const login = (username: string, password: string, source = ATTACKER) => call(obtainToken, { username, password }, source, '/api/token/');
const signUp = (username: string, source = VICTIM_HOME) => call(register, { username, password: PASSWORD }, source, '/api/register/');

async function failTimes(username: string, n: number, source = ATTACKER) {
  for (let i = 0; i < n; i++) {
    const res = await login(username, `wrong-${i}`, source);
    expect(res.status).toBe(401);
    expect(res.body).toEqual(FAILED);
  }
}

/**
 * n requests, 5 at a time (the role's connection limit is small); their statuses in order. A
 * 5xx comes with its body's code (`503 database_unavailable`), so that a failed run says which.
 */
async function inBatches(n: number, request: (i: number) => Promise<Reply>): Promise<Array<number | string>> {
  const statuses: Array<number | string> = [];
  for (let i = 0; i < n; i += 5) {
    const batch = await Promise.all(Array.from({ length: Math.min(5, n - i) }, (_, j) => request(i + j)));
    statuses.push(...batch.map((r) => (r.status >= 500 ? `${r.status} ${(r.body as { code?: string } | undefined)?.code}` : r.status)));
  }
  return statuses;
}

/** Moves the limits' clock: every timestamp in login_limits goes `seconds` into the past. */
async function advance(seconds: number) {
  await adminQuery(
    `UPDATE login_limits SET window_started = window_started - make_interval(secs => $1),
       last_attempt = last_attempt - make_interval(secs => $1), last_success = last_success - make_interval(secs => $1)`,
    [seconds],
  );
}

const counters = () => adminQuery('SELECT * FROM login_limits ORDER BY key');
const attemptsOf = async (key: string) => (await adminQuery<{ attempts: number }>('SELECT attempts FROM login_limits WHERE key = $1', [key]))[0]?.attempts;
const retryAfter = (res: Reply) => Number(res.headers['Retry-After']);

const throttled = { detail: expect.stringMatching(/^Request was throttled\. Expected available in \d+ seconds?\.$/), code: 'throttled' };

describe('login limits', () => {
  beforeEach(async () => {
    await resetData();
    expect((await signUp('carol')).status).toBe(201);
    // Carol has logged in from home before: that source is known for her account.
    expect((await login('carol', PASSWORD, VICTIM_HOME)).status).toBe(200);
  });
  afterAll(() => expectNoAppConnections());

  describe('one source guessing one account', () => {
    it('answers 429 with Retry-After after 5 failures from that source, even for the right password', async () => {
      await failTimes('carol', 5);
      const res = await login('carol', PASSWORD);
      expect(res.status).toBe(429);
      expect(res.body).toEqual(throttled);
      const retryAfter = Number(res.headers['Retry-After']);
      expect(retryAfter).toBeGreaterThan(890);
      expect(retryAfter).toBeLessThanOrEqual(900);
      await expectNoAppConnections();
    });

    it('does not lock the owner out: carol still logs in from home, and from any other source', async () => {
      await failTimes('carol', 5);
      expect((await login('carol', 'x')).status).toBe(429);
      expect((await login('carol', PASSWORD, VICTIM_HOME)).status).toBe(200);
      expect((await login('carol', PASSWORD, '192.0.2.200')).status).toBe(200);
    });

    it('treats an unknown username exactly like a known one', async () => {
      await failTimes('nobody-here', 5);
      const unknown = await login('nobody-here', PASSWORD);
      await failTimes('carol', 5);
      const known = await login('carol', PASSWORD);
      expect(unknown.status).toBe(429);
      expect(Object.keys(unknown.headers).sort()).toEqual(Object.keys(known.headers).sort());
      expect(unknown.body.detail.replace(/\d+/, 'N')).toBe(known.body.detail.replace(/\d+/, 'N'));
    });

    it('clears the pair’s failures on a successful login, and lets the source in again once the window has passed', async () => {
      await failTimes('carol', 4, VICTIM_HOME);
      expect((await login('carol', PASSWORD, VICTIM_HOME)).status).toBe(200);
      await failTimes('carol', 4, VICTIM_HOME);
      expect((await login('carol', PASSWORD, VICTIM_HOME)).status).toBe(200);
      await failTimes('carol', 5);
      expect((await login('carol', PASSWORD)).status).toBe(429);
      await adminQuery("UPDATE login_limits SET window_started = now() - interval '16 minutes' WHERE key LIKE 'pair:%'");
      expect((await login('carol', PASSWORD)).status).toBe(200);
    });

    it('keeps the limit exact under a burst of parallel guesses', async () => {
      const replies = await Promise.all(Array.from({ length: 12 }, () => login('carol', 'wrong-password')));
      const statuses = replies.map((r) => r.status);
      // Each attempt is counted before its password is checked: at most 5 guesses are ever checked.
      expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(7);
      expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    });
  });

  describe('refused attempts count nowhere', () => {
    it('an attempt its pair refuses changes no counter, even a burst of them with the right password', async () => {
      await failTimes('carol', 5);
      const before = await counters();
      for (let i = 0; i < 10; i++) expect((await login('carol', i % 2 ? PASSWORD : `again-${i}`)).status).toBe(429);
      expect(await inBatches(10, () => login('carol', 'burst'))).toEqual(Array(10).fill(429));
      expect(await counters()).toEqual(before);
      expect(await attemptsOf('user:carol')).toBe(5);
      expect(await attemptsOf(`source:${ATTACKER}`)).toBe(5);
    }, 60_000);

    it('a guesser at one address cannot lock the owner out of a new device, window after window', async () => {
      // 21 tries in a minute: 5 are checked (401), the pair refuses the other 16 (429).
      const attack = async () => {
        const statuses: number[] = [];
        for (let i = 0; i < 21; i++) statuses.push((await login('carol', `guess-${i}`)).status);
        expect(statuses).toEqual([...Array(5).fill(401), ...Array(16).fill(429)]);
      };
      await attack();
      expect(await attemptsOf('user:carol')).toBe(5);
      expect((await login('carol', PASSWORD, '192.0.2.201')).status).toBe(200); // her new phone
      await advance(15 * 60 + 1); // the next pair window: the attack again
      await attack();
      expect((await login('carol', PASSWORD, '192.0.2.202')).status).toBe(200); // and another new address
    }, 60_000);

    it('paced over the whole hour, one address makes a new device wait one LOGIN_DELAY_SECONDS, no more', async () => {
      // Four pair windows of 5 checked guesses fill the hour's user limit (20) exactly, and no more.
      for (let window = 0; window < 4; window++) {
        if (window > 0) await advance(15 * 60 + 1);
        await failTimes('carol', 5);
        expect((await login('carol', 'more')).status).toBe(429);
      }
      expect(await attemptsOf('user:carol')).toBe(USER_LIMIT);
      // Her new device: one delay after the attacker's last checked guess (2 s by default).
      const first = await login('carol', PASSWORD, '192.0.2.203');
      expect(first.status).toBe(429);
      expect(first.body).toEqual(throttled);
      expect(retryAfter(first)).toBeGreaterThan(DELAY - 30);
      expect(retryAfter(first)).toBeLessThanOrEqual(DELAY);
      await advance(retryAfter(first));
      expect((await login('carol', PASSWORD, '192.0.2.203')).status).toBe(200);
    }, 60_000);
  });

  describe('one source, many usernames (spraying)', () => {
    it('delays the source after LOGIN_SOURCE_MAX_FAILURES failures, whatever the usernames; others are not affected', async () => {
      expect(await inBatches(SOURCE_LIMIT, (i) => login(`user${i}`, 'Winter2026!'))).toEqual(Array(SOURCE_LIMIT).fill(401));
      const next = await login('carol', 'Winter2026!');
      expect(next.status).toBe(429);
      expect(next.body).toEqual(throttled);
      expect(retryAfter(next)).toBeGreaterThan(DELAY - 30);
      expect((await login('carol', PASSWORD, VICTIM_HOME)).status).toBe(200);
      // An IPv6 attacker cannot escape by hopping addresses inside its /64.
      expect(await inBatches(SOURCE_LIMIT, (i) => login(`v6user${i}`, 'x', `2001:db8:1:2::${(i + 1).toString(16)}`))).toEqual(
        Array(SOURCE_LIMIT).fill(401),
      );
      expect((await login('carol', 'x', '2001:db8:1:2:ffff::1')).status).toBe(429);
      expect((await login('carol', PASSWORD, '2001:db8:1:3::1')).status).toBe(200);
    }, 60_000);

    it('lets the sprayer through once per delay, doubling, however often it tries in between', async () => {
      expect(await inBatches(SOURCE_LIMIT, (i) => login(`user${i}`, 'Winter2026!'))).toEqual(Array(SOURCE_LIMIT).fill(401));
      // 60 + 120 + 240 + 300 s: still inside the source's 15-minute window.
      for (const delay of [DELAY, 2 * DELAY, 4 * DELAY, MAX_DELAY]) {
        const before = await counters();
        for (let i = 0; i < 3; i++) {
          const hammer = await login(`hammer${i}`, 'x');
          expect(hammer.status).toBe(429);
          expect(retryAfter(hammer)).toBeLessThanOrEqual(delay);
        }
        expect(await counters()).toEqual(before); // refused: not counted, and the slot does not move
        await advance(delay);
        expect((await login(`slot${delay}`, 'Winter2026!')).status).toBe(401);
      }
      // The next delay (960 s, capped at 300) would end after the window (900 s): the window's end it is.
      const windowEnd = await login('next', 'x');
      expect(retryAfter(windowEnd)).toBeLessThanOrEqual(900 - 720);
      expect(retryAfter(windowEnd)).toBeGreaterThan(900 - 720 - 30);
      await advance(retryAfter(windowEnd));
      expect((await login('next', 'x')).status).toBe(401);
      expect(await attemptsOf(`source:${ATTACKER}`)).toBe(1);
    }, 60_000);

    it('does not count successful logins from a shared source (an office behind one address)', async () => {
      expect(await inBatches(SOURCE_LIMIT + 3, () => login('carol', PASSWORD, ATTACKER))).toEqual(Array(SOURCE_LIMIT + 3).fill(200));
      expect(await adminQuery('SELECT attempts FROM login_limits WHERE key = $1', [`source:${ATTACKER}`])).toEqual([{ attempts: 0 }]);
    }, 60_000);

    it('locks out no one who logs in correctly behind a shared address after LOGIN_SOURCE_MAX_FAILURES + 1 failures from it (51 by default)', async () => {
      const OFFICE = '198.51.100.80';
      expect((await signUp('dave', '192.0.2.150')).status).toBe(201);
      expect((await signUp('erin', '192.0.2.150')).status).toBe(201);
      expect((await login('dave', PASSWORD, OFFICE)).status).toBe(200); // dave logs in at the office every day
      // Someone in the office (or on the same carrier NAT) sprays.
      expect(await inBatches(SOURCE_LIMIT, (i) => login(`staff${i}`, 'Summer2026!', OFFICE))).toEqual(Array(SOURCE_LIMIT).fill(401));
      await advance(DELAY);
      expect((await login('staff-next', 'Summer2026!', OFFICE)).status).toBe(401); // failure number SOURCE_LIMIT + 1
      expect((await login('staff-more', 'Summer2026!', OFFICE)).status).toBe(429); // the sprayer waits
      // Dave, who has logged in from there before, is not affected at all.
      expect((await login('dave', PASSWORD, OFFICE)).status).toBe(200);
      // Erin logs in at the office for the first time: she waits for the next slot, not for the
      // window (and certainly not for as long as the sprayer keeps trying).
      const erin = await login('erin', PASSWORD, OFFICE);
      expect(erin.status).toBe(429);
      expect(retryAfter(erin)).toBeLessThanOrEqual(2 * DELAY);
      await advance(retryAfter(erin));
      expect((await login('erin', PASSWORD, OFFICE)).status).toBe(200);
      // From then on the office is a known source for her too.
      expect((await login('erin', PASSWORD, OFFICE)).status).toBe(200);
    }, 60_000);
  });

  describe('many sources, one username (distributed guessing)', () => {
    it('delays unknown sources after 20 failures in the hour, doubling per guess let through; carol’s known source still gets in', async () => {
      for (let i = 1; i <= USER_LIMIT; i++) await failTimes('carol', 1, `192.0.2.${i}`);
      const fresh = await login('carol', 'guess', '192.0.2.99');
      expect(fresh.status).toBe(429);
      expect(retryAfter(fresh)).toBeGreaterThan(DELAY - 30);
      expect(retryAfter(fresh)).toBeLessThanOrEqual(DELAY);
      expect((await login('carol', PASSWORD, '192.0.2.100')).status).toBe(429); // a new device waits too
      expect((await login('carol', PASSWORD, VICTIM_HOME)).status).toBe(200);
      // Each guess let through doubles the wait for the next; refused ones do not move it.
      await advance(DELAY);
      expect((await login('carol', 'guess', '192.0.2.99')).status).toBe(401);
      const before = await counters();
      for (let i = 0; i < 5; i++) expect((await login('carol', 'guess', `192.0.2.${110 + i}`)).status).toBe(429);
      expect(await counters()).toEqual(before);
      const later = await login('carol', 'guess', '192.0.2.120');
      expect(retryAfter(later)).toBeGreaterThan(2 * DELAY - 30);
      expect(retryAfter(later)).toBeLessThanOrEqual(2 * DELAY);
      // Other accounts are not affected.
      expect((await signUp('dave', '192.0.2.150')).status).toBe(201);
      expect((await login('dave', PASSWORD, '192.0.2.150')).status).toBe(200);
      // The window's end clears the account's counter.
      await advance(3_600);
      expect((await login('carol', PASSWORD, '192.0.2.121')).status).toBe(200);
    }, 60_000);

    it('lets the victim in from home during a combined attack on her account', async () => {
      await failTimes('carol', 5); // the attacker's own source is locked for carol
      for (let i = 1; i <= 25; i++) await login('carol', 'guess', `192.0.2.${i}`);
      const attacker = await login('carol', PASSWORD);
      expect(attacker.status).toBe(429);
      expect((await login('carol', PASSWORD, VICTIM_HOME)).status).toBe(200);
    }, 60_000);
  });

  describe('under real concurrency (many connections, the module called directly)', () => {
    // The application role may hold 2 connections here; these run on up to 40 admin ones.
    const limits = { ...getConfig().login, maxFailures: 5 };
    async function onConnections<T>(n: number, work: (db: Db, i: number) => Promise<T>): Promise<T[]> {
      return Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const client = new pg.Client({ connectionString: inject('adminUrl') });
          await client.connect();
          try {
            return await work(client as unknown as Db, i);
          } finally {
            await client.end();
          }
        }),
      );
    }
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => 'counted',
        (err: Error) => (err instanceof Throttled ? 'throttled' : `${(err as { code?: string }).code} ${err.message}`),
      );

    it('a burst of 40 first guesses at one fresh pair checks exactly 5', async () => {
      const results = await onConnections(40, (db) => outcome(countAttempt(db, loginKeys('203.0.113.9', 'fresh'), 'fresh', limits)));
      expect(results.filter((r) => r === 'counted')).toHaveLength(5);
      expect(results.filter((r) => r !== 'counted' && r !== 'throttled')).toEqual([]);
    }, 60_000);

    it('logins and successes that share sources and usernames never deadlock', async () => {
      const wide = { ...limits, maxFailures: 100_000, sourceMaxFailures: 100_000, userMaxFailures: 100_000 };
      // A real user's credentials, so that each success takes its locks (and reads the user).
      const [carol] = await adminQuery<{ id: string; password_hash: string }>("SELECT id, password_hash FROM users WHERE username = 'carol'");
      const checked = { id: Number(carol!.id), password_hash: carol!.password_hash };
      const errors = (
        await onConnections(24, async (db, w) => {
          const found: string[] = [];
          for (let i = 0; i < 30; i++) {
            const keys = loginKeys(`203.0.113.${(w + i) % 3}`, `user${(w * 5 + i) % 3}`);
            const result = await outcome(
              countAttempt(db, keys, 'x', wide).then(async ({ countedWide }) => {
                if (i % 3 === 0 && !(await recordSuccess(db, keys, countedWide, checked))) throw new Error('the checked hash was not found');
              }),
            );
            if (result !== 'counted') found.push(result);
          }
          return found;
        })
      ).flat();
      expect(errors).toEqual([]);
    }, 120_000);
  });

  it('purges long-expired rows of other keys, but keeps a known source', async () => {
    await adminQuery(
      "INSERT INTO login_limits (key, attempts, window_seconds, window_started) VALUES ('pair:1.2.3.4 stale', 9, 900, now() - interval '2 hours')",
    );
    await adminQuery("UPDATE login_limits SET window_started = now() - interval '2 hours'");
    await failTimes('carol', 1);
    const keys = (await adminQuery<{ key: string }>('SELECT key FROM login_limits ORDER BY key')).map((r) => r.key);
    expect(keys).not.toContain('pair:1.2.3.4 stale');
    expect(keys).toContain(`pair:${VICTIM_HOME} carol`);
    expect(keys).toContain(`pair:${ATTACKER} carol`);
  });

  it('uses one connection to count the attempt and read the user, one short one after a success, never one across the hash', async () => {
    const attempt = async (username: string, password: string) => {
      const stats = newStats();
      const started = performance.now();
      const ok = await loginDirect({ username, password }, ATTACKER, { stats }).then(() => true, () => false);
      return { ok, stats, totalMs: performance.now() - started };
    };
    const failure = await attempt('carol', 'wrong-password');
    expect(failure.ok).toBe(false);
    expect(failure.stats.connectAttempts).toBe(1);
    // The scrypt check runs after the connection is closed, so it is held for less than the whole.
    expect(failure.stats.heldMs).toBeLessThan(failure.totalMs);
    const unknown = await attempt('nobody-at-all', 'wrong-password');
    expect(unknown.stats.connectAttempts).toBe(1);
    const success = await attempt('carol', PASSWORD);
    expect(success).toMatchObject({ ok: true, stats: { connectAttempts: 2 } });
  });
});

describe('registration limit (username enumeration)', () => {
  beforeEach(resetData);

  it('answers 429 after REGISTER_MAX_PER_SOURCE registrations from one source, taken usernames included', async () => {
    expect((await signUp('erin', ATTACKER)).status).toBe(201);
    const taken = await signUp('erin', ATTACKER);
    expect(taken.status).toBe(400);
    expect(taken.body).toEqual({ username: ['A user with that username already exists.'] });
    expect((await signUp('frank', ATTACKER)).status).toBe(201);
    const probe = await signUp('erin', ATTACKER);
    expect(probe.status).toBe(429);
    expect(probe.body).toEqual(throttled);
    expect(Number(probe.headers['Retry-After'])).toBeGreaterThan(3_500);
    expect((await signUp('grace', VICTIM_HOME)).status).toBe(201);
    await expectNoAppConnections();
  });

  it('refuses a throttled registration before hashing its password', async () => {
    for (const name of ['erin', 'frank', 'grace']) expect((await signUp(name, ATTACKER)).status).toBe(201);
    vi.mocked(hashPassword).mockClear();
    const throttledSignUp = await signUp('heidi', ATTACKER);
    expect(throttledSignUp.status).toBe(429);
    expect(hashPassword).not.toHaveBeenCalled();
    expect((await signUp('heidi', VICTIM_HOME)).status).toBe(201);
    expect(hashPassword).toHaveBeenCalledTimes(1);
    await expectNoAppConnections();
  });
});

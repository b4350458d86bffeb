import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { login } from '../../../lib/auth/accounts.js';
import { importUsers } from '../../../lib/auth/import.js';
import { registerUser } from '../../../lib/auth/accounts.js';
import { databaseFromUrl } from '../../../lib/config.js';
import { withConnection } from '../../../lib/db.js';
import { expectNoAppConnections, resetData } from '../../support/db.js';

// A failed login takes the same time whatever the username holds: nothing (unknown user), a
// scrypt hash (wrong password), Django's unusable "!" password, or a Django pbkdf2_sha256 hash —
// so timing does not tell which usernames exist or were imported. Single timings are noise on a
// shared 2-core machine: the cases are interleaved (each round runs all four, in a rotating
// order, so load spikes hit them alike), each time is taken relative to its round's mean, and
// the median of those ratios is compared. Comparing raw medians failed in CI with no leak: the
// suite's other files loaded the machine for part of the run only, the times fell in two modes
// (~120 ms and ~70 ms), and a median of 12 lands anywhere between the modes (72 ms for one case,
// 96 ms for the other three). A round's four logins share its load, so the ratio does not drift.

const DJANGO_260K = 'pbkdf2_sha256$260000$Xb3lDJQHc6mR$Fdy6rYHb/oiqnU6bzF88UZ1gKQsuJhd5AnQKBuQZVtg=';
const ROUNDS = 12;
const TOLERANCE = 0.2;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

let attempt = 0;
async function timeFailedLogin(username: string): Promise<number> {
  // A fresh source per try keeps the per-source limits out of the way; the per-username one
  // allows more than ROUNDS + 1 failures.
  const source = `192.0.2.${++attempt % 250}`;
  const started = performance.now();
  await expect(login({ username, password: 'not-the-password' }, `${source}-${attempt}`, {})).rejects.toMatchObject({ status: 401 });
  return performance.now() - started;
}

describe('login timing', () => {
  beforeAll(async () => {
    await resetData();
    await registerUser({ username: 'scrypt-user', password: 'correct-horse-battery', email: '' }, '192.0.2.1', {});
    const { created } = await withConnection((db) =>
      importUsers(
        db,
        [
          { username: 'django-user', email: '', password: DJANGO_260K, date_joined: '', is_active: true },
          { username: 'unusable-user', email: '', password: '!Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zA7bC0dE', date_joined: '', is_active: true },
        ],
        'EUR',
      ),
      // Imports run as the database owner (they move the id sequence past imported ids).
      { db: databaseFromUrl(inject('adminUrl'), 'cashbook-test-import') },
    );
    expect(created).toBe(2);
  });
  afterAll(() => expectNoAppConnections());

  it(`takes the same time (medians within ±${TOLERANCE * 100}%) for an unknown user, a wrong password, an unusable "!" hash and a Django hash`, async () => {
    const cases = ['nobody-at-all', 'scrypt-user', 'unusable-user', 'django-user'];
    const times: Record<string, number[]> = Object.fromEntries(cases.map((c) => [c, []]));
    for (const username of cases) await timeFailedLogin(username); // warm-up: decoys, code paths
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < cases.length; i++) {
        const username = cases[(round + i) % cases.length]!;
        times[username]!.push(await timeFailedLogin(username));
      }
    }
    const roundMean = (round: number) => cases.reduce((sum, c) => sum + times[c]![round]!, 0) / cases.length;
    const ratios = Object.fromEntries(cases.map((c) => [c, median(times[c]!.map((t, round) => t / roundMean(round)))]));
    for (const c of cases) {
      expect(Math.abs(ratios[c]! - 1), `${c}: ${JSON.stringify({ ratios, times })}`).toBeLessThanOrEqual(TOLERANCE);
    }
  }, 240_000);
});

import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { handler as obtainToken } from '../../../functions/obtain-token.js';
import { handler as register } from '../../../functions/register.js';
import { adminQuery, expectNoAppConnections, resetData } from '../../support/db.js';
import { invoke } from '../../support/events.js';

// `npm run import-users` (a CSV export of auth_user) during a cutover: a row whose id or
// normalised name is someone else's here is a clash — reported, left out, exit 1 — never a
// silent "already present", and names are stored NFKC-normalised, as login looks them up.

const DJANGO_260K = 'pbkdf2_sha256$260000$Xb3lDJQHc6mR$Fdy6rYHb/oiqnU6bzF88UZ1gKQsuJhd5AnQKBuQZVtg=';
const PASSWORD = 'correct-horse-battery';

async function importCsv(lines: string[]): Promise<{ code: number; stdout: string }> {
  const file = join(mkdtempSync(join(tmpdir(), 'cashbook-import-')), 'auth_user.csv');
  writeFileSync(file, `${lines.join('\n')}\n`);
  try {
    const { stdout } = await promisify(execFile)('node_modules/.bin/tsx', ['scripts/import-users.ts', file], {
      env: { ...process.env, DATABASE_URL: inject('adminUrl') },
    });
    return { code: 0, stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
}

const login = (username: string, password: string) =>
  invoke(obtainToken, { method: 'POST', path: '/api/token/', body: { username, password } });
const account = (id: number) => adminQuery('SELECT username, password_hash, date_joined::text FROM users WHERE id = $1', [id]);

describe('import-users: clashes with accounts registered here', () => {
  let newcomer: number;
  let frank: number;

  beforeAll(async () => {
    await resetData();
    newcomer = (await invoke(register, { method: 'POST', path: '/api/register/', body: { username: 'newcomer', password: 'newcomer-secret' } })).body.id;
    frank = (await invoke(register, { method: 'POST', path: '/api/register/', body: { username: 'frank', password: 'frank-secret' } })).body.id;
  });
  afterAll(() => expectNoAppConnections());

  it('leaves out rows whose id or name is someone else’s here, imports the rest normalised, and exits 1', async () => {
    const before = await account(newcomer);
    const csv = [
      'id,username,email,password,date_joined,is_active',
      `${newcomer},mallory,,${DJANGO_260K},2021-01-01 00:00:00+00,t`,
      `9001,frank,,${DJANGO_260K},2021-01-01 00:00:00+00,t`,
      `9002,ｚoe,,${DJANGO_260K},2021-01-01 00:00:00+00,t`,
      `9003,zoe,,${DJANGO_260K},2021-01-01 00:00:00+00,t`,
      `9004,yan,,${DJANGO_260K},2021-01-01 00:00:00+00,t`,
    ];
    const res = await importCsv(csv);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(new RegExp(`clash id ${newcomer}: id ${newcomer} is another account here: "newcomer" joined .+, not the old backend's "mallory" joined 2021-01-01 00:00:00\\+00; left out`));
    expect(res.stdout).toMatch(new RegExp(`clash id 9001: username "frank" is taken here by user ${frank} \\("frank", joined .+\\); left out`));
    expect(res.stdout).toContain('clash id 9003: username "zoe" is, once normalised, the same name as user 9002\'s "ｚoe" (NFKC: "zoe") of the old backend, which keeps it; left out');
    expect(res.stdout).toContain('5 rows read, 2 users created, 0 already present, 3 clashes left out');
    expect(res.stdout).not.toContain('pbkdf2');
    expect(await account(newcomer)).toEqual(before);
    expect((await login('newcomer', 'newcomer-secret')).status).toBe(200);
    expect((await login('mallory', PASSWORD)).status).toBe(401);
    expect(await adminQuery('SELECT id::int, username FROM users WHERE id > 9000 ORDER BY id')).toEqual([
      { id: 9002, username: 'zoe' },
      { id: 9004, username: 'yan' },
    ]);
    expect((await login('ｚoe', PASSWORD)).status).toBe(200);
    expect((await login('zoe', PASSWORD)).status).toBe(200);

    const again = await importCsv(csv);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('5 rows read, 0 users created, 2 already present, 3 clashes left out');
  });

  it('without an id column, a taken name joined at another time is a clash; the same user is already present', async () => {
    const res = await importCsv([
      'username,email,password,date_joined,is_active',
      `newcomer,,${DJANGO_260K},2021-01-01 00:00:00+00,t`,
      `yan,,${DJANGO_260K},2021-01-01 00:00:00+00,t`,
    ]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(new RegExp(`clash newcomer: username "newcomer" is taken here by user ${newcomer} \\("newcomer", joined .+\\); left out`));
    expect(res.stdout).toContain('2 rows read, 0 users created, 1 already present, 1 clash left out');
  });
});

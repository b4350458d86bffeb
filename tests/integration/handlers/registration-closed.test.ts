import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { adminQuery, expectNoAppConnections, resetData } from '../../support/db.js';
import { invoke } from '../../support/events.js';

// REGISTRATION_ENABLED=false closes registration for a cutover's window: no id handed out here
// can then clash with one the old backend hands out before the last import
// (docs/migrating-from-django.md). lib/config.ts reads the environment at cold start, so each
// case loads a fresh handler module.

const body = { username: 'latecomer', password: 'correct-horse-battery' };
const appUrl = process.env.DATABASE_URL;

async function coldRegister(env: Record<string, string>) {
  Object.assign(process.env, env);
  vi.resetModules();
  const { handler } = await import('../../../functions/register.js');
  return invoke(handler, { method: 'POST', path: '/api/register/', body });
}

describe('registration closed (REGISTRATION_ENABLED=false)', () => {
  afterEach(() => {
    delete process.env.REGISTRATION_ENABLED;
    process.env.DATABASE_URL = appUrl;
    vi.resetModules();
  });
  afterAll(() => expectNoAppConnections());

  it('answers 403 with a clear message, without touching the database', async () => {
    await resetData();
    // Nothing listens there: any connect attempt would end in a 503 after the retries.
    const res = await coldRegister({ REGISTRATION_ENABLED: 'false', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/nowhere' });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ detail: 'Registration is closed for now. Please try again later.' });
    expect(await adminQuery("SELECT key FROM login_limits WHERE key LIKE 'register:%'")).toEqual([]);
  });

  it('registers as usual by default and with REGISTRATION_ENABLED=true', async () => {
    expect((await coldRegister({})).status).toBe(201);
    const again = await coldRegister({ REGISTRATION_ENABLED: 'true' });
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ username: ['A user with that username already exists.'] });
  });

  it('refuses a value that is not a boolean at cold start, naming the variable', async () => {
    process.env.REGISTRATION_ENABLED = 'maybe';
    vi.resetModules();
    await expect(import('../../../functions/register.js')).rejects.toThrow('REGISTRATION_ENABLED must be true or false');
  });
});

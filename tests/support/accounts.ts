import { expect } from 'vitest';
import { handler as register } from '../../functions/register.js';
import { handler as obtainToken } from '../../functions/obtain-token.js';
import { invoke } from './events.js';

let counter = 0;

/** Registers a fresh user through the handlers and returns its id and tokens. */
export async function signUp(prefix = 'user'): Promise<{ id: number; username: string; access: string; refresh: string }> {
  const username = `${prefix}${++counter}_${Date.now()}`;
  const password = 'correct-horse-battery';
  const created = await invoke(register, { method: 'POST', path: '/api/register/', body: { username, password } });
  expect(created.status).toBe(201);
  const tokens = await invoke(obtainToken, { method: 'POST', path: '/api/token/', body: { username, password } });
  expect(tokens.status).toBe(200);
  return { id: created.body.id, username, ...tokens.body };
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as create } from '../../../functions/create-transaction.js';
import { handler as retrieve } from '../../../functions/get-transaction.js';
import { handler as list } from '../../../functions/list-transactions.js';
import { handler as methodNotAllowed } from '../../../functions/method-not-allowed.js';
import { handler as notFound } from '../../../functions/not-found.js';
import { handler as obtainToken } from '../../../functions/obtain-token.js';
import { handler as register } from '../../../functions/register.js';
import { handler as update } from '../../../functions/update-transaction.js';
import { signUp } from '../../support/accounts.js';
import { adminQuery, expectNoAppConnections, resetData } from '../../support/db.js';
import { invoke, type EventInput } from '../../support/events.js';

// Every client mistake gets its documented 4xx, writes nothing and leaves no connection.

let token = '';
let txId = '';

async function rowCounts() {
  const [row] = await adminQuery<{ users: string; transactions: string }>(
    'SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM transactions) AS transactions',
  );
  return row;
}

const postTx = (body: unknown): EventInput => ({ method: 'POST', path: '/api/transactions/', body, token });
const valid = { type: 'expense', amount: '10.00' };

describe('bad input', () => {
  beforeAll(async () => {
    await resetData();
    ({ access: token } = await signUp('victim'));
    const res = await invoke(create, postTx(valid));
    txId = res.body.id;
  });
  afterAll(() => expectNoAppConnections());

  const cases: Array<[string, unknown, () => EventInput, number, unknown]> = [
    ['malformed JSON', create, () => ({ ...postTx(undefined), rawBody: '{"type": "income",', headers: { 'content-type': 'application/json' } }), 400, { detail: expect.stringMatching(/^JSON parse error - /) }],
    ['a JSON array', create, () => postTx([valid]), 400, { non_field_errors: ['Invalid data. Expected a dictionary, but got list.'] }],
    ['a JSON string', create, () => postTx('hello'), 400, { non_field_errors: ['Invalid data. Expected a dictionary, but got str.'] }],
    ['JSON null', create, () => ({ ...postTx(undefined), rawBody: 'null', headers: { 'content-type': 'application/json' } }), 400, { non_field_errors: ['Invalid data. Expected a dictionary, but got null.'] }],
    ['missing fields', create, () => postTx({}), 400, { type: ['This field is required.'], amount: ['This field is required.'] }],
    ['an extra field', create, () => postTx({ ...valid, owner: 'x' }), 400, { owner: ['Unknown field.'] }],
    ['a wrong-typed field', create, () => postTx({ ...valid, category: 5 }), 400, { category: ['Not a valid string.'] }],
    ['null for a required field', create, () => postTx({ ...valid, type: null }), 400, { type: ['This field may not be null.'] }],
    ['an unknown type', create, () => postTx({ ...valid, type: 'gift' }), 400, { type: ['"gift" is not a valid choice.'] }],
    ['an unknown payment mode', create, () => postTx({ ...valid, payment_mode: 'bitcoin' }), 400, { payment_mode: ['"bitcoin" is not a valid choice.'] }],
    ['a negative amount', create, () => postTx({ ...valid, amount: '-5.00' }), 400, { amount: ['Ensure this value is greater than or equal to 0.01.'] }],
    ['a zero amount', create, () => postTx({ ...valid, amount: 0 }), 400, { amount: ['Ensure this value is greater than or equal to 0.01.'] }],
    ['an amount with 3 decimals', create, () => postTx({ ...valid, amount: '1.005' }), 400, { amount: ['Ensure that there are no more than 2 decimal places.'] }],
    ['an amount "abc"', create, () => postTx({ ...valid, amount: 'abc' }), 400, { amount: ['A valid number is required.'] }],
    ['an amount 1e309', create, () => ({ ...postTx(undefined), rawBody: '{"type":"expense","amount":1e309}' }), 400, { amount: ['A valid number is required.'] }],
    ['an amount of 13 digits', create, () => postTx({ ...valid, amount: '1234567890123' }), 400, { amount: ['Ensure that there are no more than 12 digits in total.'] }],
    ['an amount as a boolean', create, () => postTx({ ...valid, amount: true }), 400, { amount: ['A valid number is required.'] }],
    ['the date 2026-02-30', create, () => postTx({ ...valid, date: '2026-02-30' }), 400, { date: ['Date has wrong format. Use one of these formats instead: YYYY-MM-DD.'] }],
    ['the date "yesterday"', create, () => postTx({ ...valid, date: 'yesterday' }), 400, { date: ['Date has wrong format. Use one of these formats instead: YYYY-MM-DD.'] }],
    ['a 101-character category', create, () => postTx({ ...valid, category: 'c'.repeat(101) }), 400, { category: ['Ensure this field has no more than 100 characters.'] }],
    ['a 1 MB body', create, () => postTx({ ...valid, description: 'x'.repeat(1024 * 1024) }), 413, { detail: expect.stringContaining('exceeds') }],
    ['a form-encoded body', create, () => ({ ...postTx(undefined), rawBody: 'type=income', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, { detail: 'Unsupported media type "application/x-www-form-urlencoded" in request.' }],
    ['a non-UUID id', retrieve, () => ({ path: '/api/transactions/123/', pathParameters: { id: '123' }, token }), 404, { detail: 'Not found.' }],
    ['a PATCH with a bad amount', update, () => ({ method: 'PATCH', path: `/api/transactions/${txId}/`, pathParameters: { id: txId }, body: { amount: '-1' }, token }), 400, { amount: ['Ensure this value is greater than or equal to 0.01.'] }],
    ['page=abc', list, () => ({ path: '/api/transactions/', query: { page: 'abc' }, token }), 400, { page: ['page must be a positive integer.'] }],
    ['page_size=501', list, () => ({ path: '/api/transactions/', query: { page_size: '501' }, token }), 400, { page_size: ['page_size must be at most 500.'] }],
    ['a username with spaces', register, () => ({ method: 'POST', path: '/api/register/', body: { username: 'a b', password: 'correct-horse' } }), 400, { username: [expect.stringMatching(/^Enter a valid username/)] }],
    ['a 151-character username', register, () => ({ method: 'POST', path: '/api/register/', body: { username: 'u'.repeat(151), password: 'correct-horse' } }), 400, { username: ['Ensure this field has no more than 150 characters.'] }],
    ['a 7-character password', register, () => ({ method: 'POST', path: '/api/register/', body: { username: 'shorty', password: 'abcdefg' } }), 400, { password: ['This password is too short. It must contain at least 8 characters.'] }],
    ['an all-digit password', register, () => ({ method: 'POST', path: '/api/register/', body: { username: 'digits', password: '1234567890' } }), 400, { password: ['This password is entirely numeric.'] }],
    ['an invalid email', register, () => ({ method: 'POST', path: '/api/register/', body: { username: 'mailer', password: 'correct-horse', email: 'nope' } }), 400, { email: ['Enter a valid email address.'] }],
    // PostgreSQL stores U+FFFD for a lone surrogate: the login counters, keyed by the name, came back under another key (a 500).
    ['a login as "\\ud800"', obtainToken, () => ({ method: 'POST', path: '/api/token/', rawBody: String.raw`{"username": "\ud800", "password": "correct-horse"}` }), 401, { detail: 'No active account found with the given credentials' }],
    ['an amount of 60,000 zeros between 1. and 1', create, () => postTx({ ...valid, amount: `1.${'0'.repeat(60_000)}1` }), 400, { amount: ['String value too large.'] }],
    ['a login without password', obtainToken, () => ({ method: 'POST', path: '/api/token/', body: { username: 'victim' } }), 400, { password: ['This field is required.'] }],
    ['an unknown route', notFound, () => ({ path: '/api/nothing-here/', routeKey: '$default' }), 404, { detail: 'Not found.' }],
    ['an unsupported method', methodNotAllowed, () => ({ method: 'PATCH', path: '/api/transactions/', routeKey: 'ANY /api/transactions' }), 405, { detail: 'Method "PATCH" not allowed.' }],
    ['a request without a token', create, () => ({ method: 'POST', path: '/api/transactions/', body: valid }), 401, { detail: 'Authentication credentials were not provided.' }],
    ['a 9 KB Authorization header', create, () => ({ method: 'POST', path: '/api/transactions/', body: valid, headers: { authorization: `Bearer ${'a'.repeat(9 * 1024)}` } }), 401, { detail: 'Given token not valid for any token type', code: 'token_not_valid' }],
    ['a Bearer header without a token', create, () => ({ method: 'POST', path: '/api/transactions/', body: valid, headers: { authorization: 'Bearer' } }), 401, { detail: 'Authorization header must contain two space-delimited values', code: 'token_not_valid' }],
    // Authentication comes first, as in DRF: an anonymous caller learns nothing about the input rules.
    ['an anonymous bad body', create, () => ({ method: 'POST', path: '/api/transactions/', body: { type: 'gift' } }), 401, { detail: 'Authentication credentials were not provided.' }],
    ['an anonymous malformed JSON', create, () => ({ method: 'POST', path: '/api/transactions/', rawBody: '{', headers: { 'content-type': 'application/json' } }), 401, { detail: 'Authentication credentials were not provided.' }],
    ['an anonymous 1 MB body', create, () => ({ method: 'POST', path: '/api/transactions/', body: { ...valid, description: 'x'.repeat(1024 * 1024) } }), 401, { detail: 'Authentication credentials were not provided.' }],
    ['an anonymous non-UUID id', retrieve, () => ({ path: '/api/transactions/123/', pathParameters: { id: '123' } }), 401, { detail: 'Authentication credentials were not provided.' }],
    ['an anonymous bad query', list, () => ({ path: '/api/transactions/', query: { page: 'abc' } }), 401, { detail: 'Authentication credentials were not provided.' }],
    ['a bad token with a bad id', update, () => ({ method: 'PATCH', path: '/api/transactions/1/', pathParameters: { id: '1' }, body: { amount: '-1' }, token: 'not-a-jwt' }), 401, { detail: 'Given token not valid for any token type', code: 'token_not_valid' }],
  ];

  it.each(cases)('%s → %i-ish documented error, nothing written', async (_name, handler, input, status, body) => {
    const before = await rowCounts();
    const res = await invoke(handler, input());
    expect(res.status).toBe(status);
    expect(res.body).toEqual(body);
    expect(res.raw ?? '').not.toMatch(/at \w+ \(|node_modules|SELECT|INSERT/);
    expect(res.headers['Content-Type']).toBe('application/json; charset=utf-8');
    expect(await rowCounts()).toEqual(before);
  });
});

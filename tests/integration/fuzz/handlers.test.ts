import fc from 'fast-check';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as completeAttachment } from '../../../functions/complete-attachment.js';
import { handler as createAttachment } from '../../../functions/create-attachment.js';
import { handler as createTransaction } from '../../../functions/create-transaction.js';
import { handler as deleteAttachment } from '../../../functions/delete-attachment.js';
import { handler as listAttachments } from '../../../functions/list-attachments.js';
import { handler as deleteTransaction } from '../../../functions/delete-transaction.js';
import { handler as getDocsAsset } from '../../../functions/get-docs-asset.js';
import { handler as getDocs } from '../../../functions/get-docs.js';
import { handler as getHealth } from '../../../functions/get-health.js';
import { handler as getMe } from '../../../functions/get-me.js';
import { handler as getOpenApi } from '../../../functions/get-open-api.js';
import { handler as getTransaction } from '../../../functions/get-transaction.js';
import { handler as getTransactionHistory } from '../../../functions/get-transaction-history.js';
import { handler as listBookActivity } from '../../../functions/list-book-activity.js';
import { handler as listTransactions } from '../../../functions/list-transactions.js';
import { handler as methodNotAllowed } from '../../../functions/method-not-allowed.js';
import { handler as notFound } from '../../../functions/not-found.js';
import { handler as obtainToken } from '../../../functions/obtain-token.js';
import { handler as refreshToken } from '../../../functions/refresh-token.js';
import { handler as register } from '../../../functions/register.js';
import { handler as replaceTransaction } from '../../../functions/replace-transaction.js';
import { handler as updateTransaction } from '../../../functions/update-transaction.js';
import { handler as verifyToken } from '../../../functions/verify-token.js';
import { signUp } from '../../support/accounts.js';
import { expectNoAppConnections, resetData } from '../../support/db.js';
import { apiEvent, lambdaContext } from '../../support/events.js';

// Property-based: arbitrary JSON, strings, headers, query strings and path ids sent to every
// handler. Whatever arrives: never a 5xx, never internals in a body, never a connection left open.

const NUM_RUNS = Number(process.env.FUZZ_RUNS ?? 60);

type Handler = (event: APIGatewayProxyEventV2, context: unknown) => Promise<{ statusCode?: number; headers?: Record<string, unknown>; body?: string }>;

const HANDLERS: Record<string, { handler: unknown; fields: string[] }> = {
  register: { handler: register, fields: ['username', 'password', 'email'] },
  obtainToken: { handler: obtainToken, fields: ['username', 'password'] },
  refreshToken: { handler: refreshToken, fields: ['refresh'] },
  verifyToken: { handler: verifyToken, fields: ['token'] },
  getMe: { handler: getMe, fields: [] },
  listTransactions: { handler: listTransactions, fields: [] },
  createTransaction: { handler: createTransaction, fields: ['type', 'amount', 'category', 'description', 'date', 'payment_mode'] },
  getTransaction: { handler: getTransaction, fields: [] },
  replaceTransaction: { handler: replaceTransaction, fields: ['type', 'amount', 'category', 'description', 'date', 'payment_mode'] },
  updateTransaction: { handler: updateTransaction, fields: ['type', 'amount', 'category', 'description', 'date', 'payment_mode', 'id'] },
  deleteTransaction: { handler: deleteTransaction, fields: [] },
  createAttachment: { handler: createAttachment, fields: ['filename', 'content_type', 'size'] },
  completeAttachment: { handler: completeAttachment, fields: [] },
  listAttachments: { handler: listAttachments, fields: [] },
  deleteAttachment: { handler: deleteAttachment, fields: [] },
  getTransactionHistory: { handler: getTransactionHistory, fields: [] },
  listBookActivity: { handler: listBookActivity, fields: [] },
  getHealth: { handler: getHealth, fields: [] },
  getOpenApi: { handler: getOpenApi, fields: [] },
  getDocs: { handler: getDocs, fields: [] },
  getDocsAsset: { handler: getDocsAsset, fields: [] },
  methodNotAllowed: { handler: methodNotAllowed, fields: [] },
  notFound: { handler: notFound, fields: [] },
};

let access = '';
let refresh = '';
let ownId = '';

const text = fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('', ' ', '\u0000', 'null', '1e309', '-0', '💸', 'a'.repeat(5000)));

/** Plausible values, so that the fuzz reaches the database and not only validation. */
const PLAUSIBLE: Record<string, unknown[]> = {
  username: ['fuzz-user', 'carol'],
  password: ['correct-horse-battery'],
  email: ['', 'a@example.com'],
  type: ['income', 'expense'],
  amount: ['1.00', 5, '9999999999.99', 0.01],
  category: ['food', ''],
  description: ['lunch'],
  date: ['2026-01-31', '0001-01-01', '9999-12-31'],
  payment_mode: ['cash', 'upi'],
  filename: ['receipt.jpg', 'Café.pdf'],
  content_type: ['image/jpeg', 'application/pdf'],
  size: [1, 1024, 10 * 1024 * 1024],
};

const fieldValue = (field: string) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...(PLAUSIBLE[field] ?? [''])) },
    { weight: 2, arbitrary: text },
    { weight: 1, arbitrary: fc.oneof(fc.jsonValue(), fc.double(), fc.integer()) },
  );

/** An object with some of the fields, each plausible or fuzzed, sometimes an unknown key. */
const nearlyValid = (fields: string[]) =>
  fc
    .tuple(
      fc.record(Object.fromEntries(fields.map((f) => [f, fieldValue(f)])), { requiredKeys: [] }),
      fc.option(fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 2 }), { freq: 4 }),
    )
    .map(([known, extra]) => JSON.stringify({ ...known, ...(extra ?? {}) }));

/** Bodies: any JSON, a near-valid object, or not JSON at all. */
const body = (fields: string[]) =>
  fc.oneof(
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fields.length ? nearlyValid(fields) : fc.constant('{}'),
    fields.length ? nearlyValid(fields) : fc.constant('{}'),
    text,
    fc.constant(undefined),
  );

const headerName = fc.oneof(
  fc.constantFrom('content-type', 'authorization', 'origin', 'host', 'x-forwarded-proto', 'content-length', 'access-control-request-method'),
  fc.string({ minLength: 1, maxLength: 20 }),
);
const authorization = fc.oneof(
  fc.constant(undefined),
  fc.constant('valid'),
  fc.constant('valid'),
  text.map((t) => `Bearer ${t}`),
  text,
);

const event = (fields: string[]) =>
  fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE', 'BREW'),
    body: body(fields),
    base64: fc.boolean(),
    headers: fc.dictionary(headerName, text, { maxKeys: 5 }),
    contentType: fc.option(fc.constantFrom('application/json', 'application/vnd.api+json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1')),
    authorization,
    query: fc.option(fc.dictionary(fc.oneof(fc.constantFrom('page', 'page_size'), text), fc.oneof(fc.constantFrom('1', '2', '500', '501', '0'), text), { maxKeys: 4 })),
    id: fc.oneof(fc.uuid(), text, fc.constant('own')),
    file: fc.oneof(text, fc.constantFrom('swagger-ui.css', 'init.js', '../../package.json', '__proto__', 'constructor')),
    path: fc.oneof(fc.constantFrom('/api/transactions/', '/api/docs', '/api/docs/'), text.map((t) => `/api/${t}`)),
  });

type Input = ReturnType<typeof event> extends fc.Arbitrary<infer T> ? T : never;

function toEvent(input: Input): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = { ...input.headers };
  if (input.contentType) headers['content-type'] = input.contentType;
  if (input.authorization === 'valid') headers.authorization = `Bearer ${access}`;
  else if (input.authorization !== undefined) headers.authorization = input.authorization;
  const ev = apiEvent({ method: input.method, path: input.path, headers });
  const raw = input.body;
  ev.body = raw === undefined ? undefined : input.base64 ? Buffer.from(raw).toString('base64') : raw;
  ev.isBase64Encoded = Boolean(input.base64 && raw !== undefined);
  ev.queryStringParameters = input.query ?? undefined;
  ev.rawQueryString = input.query ? new URLSearchParams(input.query).toString() : '';
  ev.pathParameters = { id: input.id === 'own' ? ownId : input.id, file: input.file };
  return ev;
}

// Stack frames, file paths and SQL error text; field names the client sent may be echoed (DRF does).
const INTERNALS = /\n\s+at \S|node_modules\/|\(\/[^)]*:\d+:\d+\)|SQLSTATE|syntax error at|violates .* constraint/;

describe('fuzzing every handler', () => {
  beforeAll(async () => {
    await resetData();
    ({ access, refresh } = await signUp('fuzz'));
    const created = await (createTransaction as Handler)(
      apiEvent({ method: 'POST', path: '/api/transactions/', body: { type: 'income', amount: '1.00' }, token: access }),
      lambdaContext(),
    );
    ownId = JSON.parse(created.body!).id;
  });
  afterAll(() => expectNoAppConnections());

  for (const [name, { handler, fields }] of Object.entries(HANDLERS)) {
    it(`${name}: never a 5xx, never internals in the body`, async () => {
      await fc.assert(
        fc.asyncProperty(event(fields), async (input) => {
          const res = await (handler as Handler)(toEvent(input), lambdaContext());
          const status = res.statusCode ?? 0;
          expect(status, JSON.stringify(input).slice(0, 500)).toBeGreaterThanOrEqual(200);
          expect(status, `${res.body?.slice(0, 300)}\n${JSON.stringify(input).slice(0, 500)}`).toBeLessThan(500);
          if (name !== 'getDocsAsset' && res.body) expect(res.body).not.toMatch(INTERNALS);
        }),
        { numRuns: NUM_RUNS },
      );
      await expectNoAppConnections();
    }, 120_000);
  }

  it('keeps a real refresh token usable after all that (nothing was corrupted)', async () => {
    const res = await (refreshToken as Handler)(apiEvent({ method: 'POST', path: '/api/token/refresh/', body: { refresh } }), lambdaContext());
    expect(res.statusCode).toBe(200);
  });
});

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDocument } from '../../../lib/openapi/document.js';
import { handlerFile } from '../../../lib/routes/index.js';
import { expectNoAppConnections, resetData } from '../../support/db.js';
import { apiEvent, lambdaContext } from '../../support/events.js';

// Every operation of the OpenAPI document, driven with values drawn from its parameters' and
// body's schemas (the document's own, so a new route is covered as soon as it is in the route
// table) and from just outside them: calendar edges, 0, negative and huge numbers, over-long
// strings, wrong types, unicode, empty values. Through the real handlers on PostgreSQL, with a
// live account, its own ids and tokens: never a 5xx, never internals in a body, no connection left.

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const RUNS = Number(process.env.FUZZ_RUNS ?? 20);
const PASSWORD = 'correct-horse-battery';

type Schema = Record<string, any>;
type Handler = (event: APIGatewayProxyEventV2, context: unknown) => Promise<APIGatewayProxyStructuredResultV2>;

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: Schema;
}

interface Operation {
  id: string;
  method: string;
  path: string;
  auth: boolean;
  parameters: Parameter[];
  body?: Schema;
}

const doc = buildDocument() as { paths: Record<string, Record<string, Schema>>; components: { schemas: Record<string, Schema> } };

const resolve = (schema: Schema): Schema =>
  typeof schema.$ref === 'string' ? doc.components.schemas[schema.$ref.split('/').pop()!]! : schema;

const OPERATIONS: Operation[] = Object.entries(doc.paths).flatMap(([path, ops]) =>
  Object.entries(ops).map(([method, op]) => ({
    id: op.operationId,
    method: method.toUpperCase(),
    path,
    auth: (op.security ?? []).length > 0,
    parameters: op.parameters ?? [],
    body: op.requestBody ? resolve(op.requestBody.content['application/json'].schema) : undefined,
  })),
);

const handlers: Record<string, Handler> = {};
const answered: Record<string, number[]> = {};

// Placeholders for what only the running test knows (its account's ids and tokens).
const OWN_ID = '<own id>';
const OWN_BOOK = '<own book>';
const ACCESS = '<access token>';
const REFRESH = '<refresh token>';
const USERNAME = '<username>';

// --- values from a schema, and from just outside it ---

const DATE_EDGES = ['0001-01-01', '0001-12-31', '9999-12-01', '9999-12-15', '9999-12-31', '2024-02-29'];
const DATE_OUTSIDE = ['0000-12-31', '10000-01-01', '+010000-01-01', '2023-02-29', ' 2026-01-01'];
const STRINGS_OUTSIDE = ['', ' ', '\u0000', '💸', '\ud800', '\uff41\u202e', '-1', '1e309', '9999999999999.99', "%_'; --"];
/** The few of them every parameter gets in the sweep. */
const JUNK = ['', '\u0000', '\ud800', '-1', "%_'; --"];
const WRONG_TYPES: unknown[] = [null, true, false, 0, -1, -0.01, 0.001, 1e308, Number.MAX_SAFE_INTEGER, 2 ** 63, [], {}, ['x'], { a: 1 }];

/** By field name: what the account itself holds, so that requests get past "not yours" to the SQL. */
function live(name: string): fc.Arbitrary<unknown> | undefined {
  if (name === 'refresh') return fc.constant(REFRESH);
  if (name === 'token') return fc.constantFrom(ACCESS, REFRESH);
  if (/password/.test(name)) return fc.constant(PASSWORD);
  if (name === 'username') return fc.constant(USERNAME);
  if (name === 'book') return fc.constant(OWN_BOOK);
  return undefined;
}

function stringIn(schema: Schema): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? 60;
  const fits = (s: string) => s.length >= min && s.length <= max;
  if (schema.format === 'date') {
    const dates = fc
      .date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 10));
    return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...DATE_EDGES) }, { weight: 1, arbitrary: dates });
  }
  if (schema.format === 'uuid') return fc.oneof(fc.uuid(), fc.uuid().map((u) => u.toUpperCase()));
  if (schema.format === 'email') return fc.emailAddress().filter(fits);
  if (schema.pattern) {
    try {
      return fc.stringMatching(new RegExp(schema.pattern, 'u')).filter(fits);
    } catch {
      // A pattern fast-check cannot generate from: plain strings below.
    }
  }
  const upTo = Math.min(max, 60);
  return fc.oneof(
    fc.string({ minLength: min, maxLength: upTo }),
    fc.string({ unit: 'grapheme', minLength: min, maxLength: upTo }),
    fc.constant('x'.repeat(max)),
  );
}

function typed(type: string, schema: Schema): fc.Arbitrary<unknown> {
  switch (type) {
    case 'string':
      return stringIn(schema);
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1_000, max: schema.maximum ?? 1_000_000 });
    case 'number': {
      const [min, max] = [schema.minimum ?? -1e9, schema.maximum ?? 1e9];
      const cents = fc.integer({ min: Math.ceil(min * 100), max: Math.floor(max * 100) }).map((n) => n / 100);
      return fc.oneof(cents, fc.double({ min, max, noNaN: true }), fc.constantFrom(min, max));
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(inside(schema.items ?? {}), { maxLength: 3 });
    case 'object':
      return objectOf(schema);
    default:
      return fc.jsonValue();
  }
}

/** A value the schema allows. */
function inside(raw: Schema, name = ''): fc.Arbitrary<unknown> {
  const schema = resolve(raw);
  const options: fc.WeightedArbitrary<unknown>[] = [];
  const own = live(name);
  if (own) options.push({ weight: name === 'username' ? 1 : 6, arbitrary: own });
  if (Array.isArray(schema.examples) && schema.examples.length) options.push({ weight: 2, arbitrary: fc.constantFrom(...schema.examples) });
  const drawn: fc.Arbitrary<unknown>[] = [];
  if ('const' in schema) drawn.push(fc.constant(schema.const));
  else if (Array.isArray(schema.enum)) drawn.push(fc.constantFrom(...schema.enum));
  else if (schema.anyOf ?? schema.oneOf) drawn.push(...(schema.anyOf ?? schema.oneOf).map((s: Schema) => inside(s, name)));
  else for (const type of [schema.type ?? 'string'].flat()) drawn.push(typed(type, schema));
  for (const arbitrary of drawn) options.push({ weight: 1, arbitrary });
  return fc.oneof(...options);
}

/** A value just outside the schema, or of another type. */
function outside(raw: Schema, inBody: boolean): fc.Arbitrary<unknown> {
  const schema = resolve(raw);
  const options: fc.Arbitrary<unknown>[] = [fc.constantFrom(...STRINGS_OUTSIDE), fc.constant('7'.repeat(10_000))];
  if (typeof schema.maxLength === 'number') options.push(fc.constant('x'.repeat(schema.maxLength + 1)));
  if (typeof schema.minLength === 'number' && schema.minLength > 0) options.push(fc.constant('x'.repeat(schema.minLength - 1)));
  if (schema.format === 'date') options.push(fc.constantFrom(...DATE_OUTSIDE));
  if (schema.format === 'uuid') options.push(fc.uuid().map((u) => u.slice(1)), fc.uuid().map((u) => `${u}0`), fc.constant('00000000-0000-0000-0000-00000000000g'));
  if (Array.isArray(schema.enum)) options.push(fc.constantFrom(...schema.enum.map((e: unknown) => String(e).toUpperCase()), schema.enum.join(',')));
  if (inBody) options.push(fc.constantFrom(...WRONG_TYPES));
  return fc.oneof(...options);
}

/**
 * Half the requests hold only values the schema allows, so that they reach the SQL; the others
 * mix in values from outside it (one bad value among ten would otherwise stop nearly all of them).
 */
type Mode = 'inside' | 'mixed';

const valueOf = (schema: Schema, name: string, inBody: boolean, mode: Mode) =>
  mode === 'inside'
    ? inside(schema, name)
    : fc.oneof({ weight: 3, arbitrary: inside(schema, name) }, { weight: 2, arbitrary: outside(schema, inBody) });

function objectOf(raw: Schema, mode: Mode = 'mixed'): fc.Arbitrary<Record<string, unknown>> {
  const schema = resolve(raw);
  const fields = Object.fromEntries(Object.entries<Schema>(schema.properties ?? {}).map(([name, s]) => [name, valueOf(s, name, true, mode)]));
  const required: string[] = schema.required ?? [];
  return fc
    .tuple(
      fc.oneof(fc.record(fields, { requiredKeys: required }), fc.record(fields, { requiredKeys: [] })),
      mode === 'inside' ? fc.constant(null) : fc.option(fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }), { freq: 5 }),
    )
    .map(([known, extra]) => ({ ...(extra ?? {}), ...known }));
}

/** A JSON body: mostly an object from the schema; sometimes another JSON value, or not JSON. */
const bodyOf = (schema: Schema, mode: Mode) =>
  mode === 'inside'
    ? objectOf(schema, mode).map((o) => JSON.stringify(o))
    : fc.oneof(
    { weight: 8, arbitrary: objectOf(schema).map((o) => JSON.stringify(o)) },
    { weight: 1, arbitrary: fc.constantFrom(...WRONG_TYPES).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.constantFrom('', '{', '{"amount": 1e309, "type": "income"}', '{"a":1,"a":2}', '\ufeff{}', 'x'.repeat(70 * 1024)) },
  );

const asText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/**
 * Query or header values: strings always (API Gateway's). Mostly a few of the parameters, as
 * clients send them (and as some code paths need: a summary by date alone reads the month
 * totals, one with a search scans); sometimes any of them.
 */
function paramsOf(params: Parameter[], mode: Mode): fc.Arbitrary<Record<string, string>> {
  const values = Object.fromEntries(params.map((p) => [p.name, valueOf(p.schema, p.name, false, mode).map(asText)]));
  const required = params.filter((p) => p.required).map((p) => p.name);
  const optional = params.filter((p) => !p.required).map((p) => p.name);
  const few = fc
    .shuffledSubarray(optional, { maxLength: Math.min(3, optional.length) })
    .chain((some) => fc.record(Object.fromEntries([...required, ...some].map((name) => [name, values[name]!])))) as fc.Arbitrary<Record<string, string>>;
  return fc.oneof({ weight: 2, arbitrary: few }, { weight: 1, arbitrary: fc.record(values, { requiredKeys: required }) });
}

const authorization = fc.oneof(
  { weight: 8, arbitrary: fc.constant(`Bearer ${ACCESS}`) },
  { weight: 1, arbitrary: fc.constantFrom(undefined, `Bearer ${REFRESH}`, 'Bearer', 'Basic dXNlcjpwYXNz', `Bearer ${'a'.repeat(10_000)}`) },
);

const idOf = (p: Parameter, mode: Mode) =>
  mode === 'inside'
    ? fc.oneof({ weight: 4, arbitrary: fc.constant(OWN_ID) }, { weight: 1, arbitrary: fc.uuid() })
    : fc.oneof({ weight: 2, arbitrary: fc.constant(OWN_ID) }, { weight: 1, arbitrary: fc.uuid() }, { weight: 2, arbitrary: outside(p.schema, false).map(asText) });

function requestOf(op: Operation): fc.Arbitrary<Request> {
  const inPath = op.parameters.filter((p) => p.in === 'path');
  return fc.constantFrom<Mode>('inside', 'mixed').chain((mode) =>
    fc.record({
      path: fc.record(Object.fromEntries(inPath.map((p) => [p.name, p.name === 'id' ? idOf(p, mode) : valueOf(p.schema, p.name, false, mode).map(asText)]))),
      query: paramsOf(op.parameters.filter((p) => p.in === 'query'), mode),
      headers: paramsOf(op.parameters.filter((p) => p.in === 'header'), mode),
      body: op.body ? bodyOf(op.body, mode) : fc.constant(undefined),
      authorization: op.auth ? (mode === 'inside' ? fc.constant(`Bearer ${ACCESS}`) : authorization) : fc.constant(undefined),
      sourceIp: fc.ipV4(),
    }),
  );
}

// --- the boundary sweep: each parameter's edge values, one parameter at a time ---

/** A valid value for a parameter, to stand beside the one under test. */
function plausible(raw: Schema, name: string): unknown {
  const schema = resolve(raw);
  if (live(name)) return fc.sample(live(name)!, 1)[0];
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (schema.anyOf ?? schema.oneOf) return plausible((schema.anyOf ?? schema.oneOf)[0], name);
  if (schema.format === 'date') return '2026-01-31';
  if (schema.format === 'uuid') return OWN_ID;
  if (schema.format === 'email') return 'a@example.com';
  const type = [schema.type ?? 'string'].flat()[0];
  if (type === 'number' || type === 'integer') return schema.minimum ?? 1;
  if (type === 'boolean') return true;
  if (type === 'object') return {};
  if (type === 'array') return [];
  return 'x'.repeat(Math.max(schema.minLength ?? 1, 1));
}

/** The values at and just past a schema's own edges (its format, enum, lengths, bounds, examples). */
function edges(raw: Schema, inBody: boolean): unknown[] {
  const schema = resolve(raw);
  const values: unknown[] = [];
  if (Array.isArray(schema.examples)) values.push(...schema.examples);
  if (Array.isArray(schema.enum)) values.push(...schema.enum, ...schema.enum.map((e: unknown) => String(e).toUpperCase()));
  if (schema.anyOf ?? schema.oneOf) for (const s of schema.anyOf ?? schema.oneOf) values.push(...edges(s, inBody));
  if (typeof schema.maxLength === 'number') values.push('x'.repeat(schema.maxLength), 'x'.repeat(schema.maxLength + 1));
  if (typeof schema.minimum === 'number') values.push(schema.minimum, schema.minimum - 0.01);
  if (typeof schema.maximum === 'number') values.push(schema.maximum, schema.maximum + 0.01, schema.maximum * 10);
  if (schema.format === 'date') values.push(...DATE_EDGES, ...DATE_OUTSIDE);
  if (schema.format === 'uuid') values.push(OWN_ID, '00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF');
  if (typeof schema.pattern === 'string' && /\\d/.test(schema.pattern)) values.push('1', '999999999', '0.01', '10000000000');
  if (inBody) values.push(null, true, -1, 0.001, 1e308, [], {});
  return [...new Set(values)];
}

/**
 * A parameter's edge values; those of a format (a date, an id: where calendar arithmetic and
 * lookups are) also beside each enum parameter; then junk, alone.
 */
const sweepValues = (raw: Schema, inBody: boolean): Array<[unknown, 'with companions' | 'alone']> => {
  const how = resolve(raw).format ? 'with companions' : 'alone';
  return [...edges(raw, inBody).map((v): [unknown, typeof how] => [v, how]), ...JUNK.map((v): [unknown, 'alone'] => [v, 'alone'])];
};

/**
 * Requests that each set one parameter (or body field) to one of its edge values, the others
 * plausible: alone, and beside each value of each enum parameter (a filter such as type=income
 * changes the statement that the edge value reaches).
 */
function sweep(op: Operation): Request[] {
  const path = Object.fromEntries(op.parameters.filter((p) => p.in === 'path').map((p) => [p.name, p.name === 'id' ? OWN_ID : String(plausible(p.schema, p.name))]));
  const base = (): Request => ({
    path: { ...path },
    query: Object.fromEntries(op.parameters.filter((p) => p.in === 'query' && p.required).map((p) => [p.name, asText(plausible(p.schema, p.name))])),
    headers: {},
    body: undefined,
    authorization: op.auth ? `Bearer ${ACCESS}` : undefined,
    sourceIp: '10.0.0.2',
  });
  const requests: Request[] = [];
  const body = op.body ? resolve(op.body) : undefined;
  const minimalBody = () =>
    Object.fromEntries(((body?.required ?? []) as string[]).map((name) => [name, plausible(body!.properties[name], name)]));
  if (body) {
    for (const [name, schema] of Object.entries<Schema>(body.properties ?? {})) {
      for (const [value] of sweepValues(schema, true)) requests.push({ ...base(), body: JSON.stringify({ ...minimalBody(), [name]: value }) });
    }
  } else requests.push(base());
  const enums = op.parameters.filter((p) => p.in === 'query' && Array.isArray(resolve(p.schema).enum));
  for (const p of op.parameters.filter((q) => q.in !== 'path')) {
    // Each other enum parameter at its first value: type=income is what sends a date filter to the month totals.
    const companions: Record<string, string>[] = [{}, ...enums.filter((e) => e !== p).map((e) => ({ [e.name]: String(resolve(e.schema).enum[0]) }))];
    for (const [value, how] of sweepValues(p.schema, false)) {
      for (const companion of how === 'alone' ? [{}] : companions) {
        const req = base();
        const where = p.in === 'query' ? req.query : req.headers;
        Object.assign(req.query, companion);
        where[p.name] = asText(value);
        if (body) req.body = JSON.stringify(minimalBody());
        requests.push(req);
      }
    }
  }
  for (const p of op.parameters.filter((q) => q.in === 'path')) {
    for (const [value] of sweepValues(p.schema, false)) requests.push({ ...base(), path: { ...path, [p.name]: asText(value) }, body: body ? JSON.stringify(minimalBody()) : undefined });
  }
  return requests;
}

// --- the account the requests act as ---

interface Session {
  username: string;
  access: string;
  refresh: string;
  transaction: string;
  book: string;
  stale: 'no' | 'tokens' | 'objects';
}

let session: Session | undefined;
let accounts = 0;

async function call(name: string, input: Parameters<typeof apiEvent>[0], sourceIp = '10.0.0.1') {
  const event = apiEvent(input);
  event.requestContext.http.sourceIp = sourceIp;
  const res = await handlers[name]!(event, lambdaContext());
  return { status: res.statusCode ?? 0, body: res.body ? JSON.parse(res.body) : undefined };
}

async function logIn(username: string) {
  const res = await call('obtainToken', { method: 'POST', path: '/api/token/', body: { username, password: PASSWORD } });
  return res.status === 200 ? (res.body as { access: string; refresh: string }) : undefined;
}

async function ownObjects(access: string) {
  const tx = await call('createTransaction', { method: 'POST', path: '/api/transactions/', body: { type: 'income', amount: '10.00', date: '9999-12-31' }, token: access });
  const book = await call('createBook', { method: 'POST', path: '/api/books/', body: { name: 'fuzz' }, token: access });
  expect([tx.status, book.status]).toEqual([201, 201]);
  return { transaction: tx.body.id as string, book: book.body.id as string };
}

/** A usable account: tokens renewed after a revocation, a new account after a password change. */
async function ensureSession(): Promise<Session> {
  if (session?.stale === 'tokens') {
    const tokens = await logIn(session.username);
    session = tokens ? { ...session, ...tokens, stale: 'objects' } : undefined;
  }
  if (!session) {
    const username = `fuzz${++accounts}_${Date.now()}`;
    const created = await call('register', { method: 'POST', path: '/api/register/', body: { username, password: PASSWORD } });
    expect(created.status).toBe(201);
    const tokens = (await logIn(username))!;
    session = { username, ...tokens, ...(await ownObjects(tokens.access)), stale: 'no' };
  }
  if (session.stale === 'objects') session = { ...session, ...(await ownObjects(session.access)), stale: 'no' };
  return session;
}

interface Request {
  path: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string | undefined;
  authorization: string | undefined;
  sourceIp: string;
}

function fill(text: string, s: Session, path: string): string {
  const id = path.startsWith('/api/books') ? s.book : s.transaction;
  return text
    .replaceAll(OWN_ID, id)
    .replaceAll(OWN_BOOK, s.book)
    .replaceAll(ACCESS, s.access)
    .replaceAll(REFRESH, s.refresh)
    .replaceAll(USERNAME, s.username);
}

/** As a client would send it; a lone surrogate cannot be percent-encoded and goes as it is. */
function encodePath(segment: string): string {
  try {
    return encodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function toEvent(op: Operation, req: Request, s: Session): APIGatewayProxyEventV2 {
  const pathParameters = Object.fromEntries(Object.entries(req.path).map(([k, v]) => [k, fill(String(v), s, op.path)]));
  const rawPath = `${op.path.replace(/\{(\w+)\}/g, (_, name: string) => encodePath(pathParameters[name] ?? ''))}/`;
  const query = Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, fill(v, s, op.path)]));
  const headers: Record<string, string> = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), fill(v, s, op.path)]));
  if (req.authorization !== undefined) headers.authorization = fill(req.authorization, s, op.path);
  const event = apiEvent({ method: op.method, path: rawPath, routeKey: `${op.method} ${op.path}`, headers, query, pathParameters });
  if (req.body !== undefined) {
    event.body = fill(req.body, s, op.path);
    event.headers['content-type'] = 'application/json';
  }
  event.requestContext.http.sourceIp = req.sourceIp;
  return event;
}

// Stack frames, file paths and SQL error text; field names the client sent may be echoed (DRF does).
const INTERNALS = /\n\s+at \S|node_modules\/|\(\/[^)]*:\d+:\d+\)|SQLSTATE|syntax error at|violates .* constraint/;

describe('every endpoint of the OpenAPI document, with values from its schemas and just outside them', () => {
  beforeAll(async () => {
    await resetData();
    for (const op of OPERATIONS) {
      const module = (await import(/* @vite-ignore */ join(ROOT, handlerFile(op.id)))) as { handler: Handler };
      handlers[op.id] = module.handler;
    }
  });
  afterAll(async () => {
    // How far the requests got: a property that never reaches a 2xx tests validation only.
    const reached = Object.entries(answered).map(([id, s]) => `${id} ${s.filter((x) => x < 300).length}/${s.length}`);
    console.info(`2xx answers per operation: ${reached.join(', ')}`);
    await expectNoAppConnections();
  });

  it('covers the whole route table', () => {
    expect(OPERATIONS.length).toBeGreaterThanOrEqual(20);
    expect(OPERATIONS.map((o) => o.id)).toEqual(expect.arrayContaining(['createTransaction', 'listTransactions', 'getTransactionSummary', 'obtainToken']));
  });

  /** Sends one request as the account; a 5xx or internals in the body fail the test. */
  async function send(op: Operation, req: Request): Promise<void> {
    const s = await ensureSession();
    const event = toEvent(op, req, s);
    const res = await handlers[op.id]!(event, lambdaContext());
    const status = res.statusCode ?? 0;
    (answered[op.id] ??= []).push(status);
    const shown = `${status} ${res.body?.slice(0, 300)}\n${op.method} ${event.rawPath}?${event.rawQueryString.slice(0, 300)} ${event.body?.slice(0, 300) ?? ''}`;
    expect(status, shown).toBeGreaterThanOrEqual(200);
    expect(status, shown).toBeLessThan(500);
    if (op.id !== 'getDocsAsset' && op.id !== 'getDocs' && res.body) expect(res.body, shown).not.toMatch(INTERNALS);
    // What the request may have done to the account: the next one starts from a usable one.
    const usedOwnId = Object.values(req.path).includes(OWN_ID);
    if (status === 401 && req.authorization === `Bearer ${ACCESS}`) s.stale = 'tokens';
    else if ((status === 404 && usedOwnId) || (op.method === 'DELETE' && status < 300)) s.stale = 'objects';
  }

  for (const op of OPERATIONS) {
    it(`${op.method} ${op.path} (${op.id}): never a 5xx, at each parameter's edges`, async () => {
      for (const req of sweep(op)) await send(op, req);
      await expectNoAppConnections();
    }, 120_000);

    it(`${op.method} ${op.path} (${op.id}): never a 5xx, for values drawn from its schemas`, async () => {
      await fc.assert(
        fc.asyncProperty(requestOf(op), (req) => send(op, req)),
        { numRuns: RUNS },
      );
      await expectNoAppConnections();
    }, 120_000);
  }
});

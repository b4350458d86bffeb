import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { authenticate } from '../../lib/http/authenticate.js';
import { parseJsonBody } from '../../lib/http/body.js';
import { pathId } from '../../lib/http/path.js';
import { parseIdempotencyKey } from '../../lib/idempotency.js';
import { ROUTES } from '../../lib/routes/index.js';
import { fieldErrors } from '../../lib/validation.js';
import { apiEvent } from '../support/events.js';

// No client string stalls a function: every validator the route table reaches (each field of
// each body, query and request-header schema, and the header and path checks of lib/http)
// answers a 64 KB adversarial value within 50 ms. Validation runs before the handler's
// promise, so middy's early timeout cannot interrupt it: a slow regex blocks the whole event
// loop (a quadratic /0+$/ took 3.5 s over "1.000…0001").

const BUDGET_MS = 50;
const N = 64 * 1024;

const ADVERSARIAL: Record<string, string> = {
  digits: '1'.repeat(N),
  zeros: '0'.repeat(N),
  'zeros then 1': `${'0'.repeat(N)}1`,
  'zeros then .': `${'0'.repeat(N)}.`,
  '1. zeros 1': `1.${'0'.repeat(N)}1`,
  '. zeros 1': `.${'0'.repeat(N)}1`,
  '1. zeros': `1.${'0'.repeat(N)}`,
  'digits then x': `${'9'.repeat(N)}x`,
  spaces: ' '.repeat(N),
  'spaces then x': `${' '.repeat(N)}x`,
  'spaces around 1': `${' '.repeat(N / 2)}1${' '.repeat(N / 2)}`,
  tabs: '\t'.repeat(N),
  pluses: '+'.repeat(N),
  dots: '.'.repeat(N),
  'plus-dot runs': '+.'.repeat(N / 2),
  'minus runs': '-'.repeat(N),
  'minus-comma runs': '-,'.repeat(N / 2),
  commas: ','.repeat(N),
  'letters then !': `${'a'.repeat(N)}!`,
  'at signs': 'a@'.repeat(N / 2),
  'dotted local part': `${'a.'.repeat(N / 2)}@`,
  'dashed domain': `a@${'a-'.repeat(N / 2)}`,
  'a date then spaces': `2026-01-01${' '.repeat(N)}`,
  'date-like runs': '2026-01-01'.repeat(N / 10),
  'uuid-like runs': '0000000-'.repeat(N / 8),
  'printable ASCII then a space': `${'!'.repeat(N)} `,
  'full-width letters': '\uff41'.repeat(N),
  // NFKC turns each into 18 characters.
  'U+FDFA': '\ufdfa'.repeat(N),
  'combining accents': 'e\u0301'.repeat(N / 2),
  emoji: '\u{1f4b8}'.repeat(N / 2),
  'lone surrogates': '\ud800'.repeat(N),
  NULs: '\u0000'.repeat(N),
  'LIKE wildcards': '%_\\'.repeat(N / 3),
};

/** The fields of an object schema, as the OpenAPI document lists them. */
function fieldsOf(schema: z.ZodType): string[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown> };
  return Object.keys(json.properties ?? {});
}

/** What api() does with a value before the handler runs: validate, and on failure build the 400's field map. */
function validate(schema: z.ZodType, input: unknown): void {
  const result = schema.safeParse(input);
  if (!result.success) fieldErrors(result.error);
}

/**
 * The best of up to 3 runs (other processes share the CPU): a run within the budget ends it; one
 * over ten times the budget is no scheduling hiccup, and is not run again.
 */
async function bestOf3(work: () => unknown): Promise<number> {
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const start = performance.now();
    await work();
    best = Math.min(best, performance.now() - start);
    if (best <= BUDGET_MS || best > 10 * BUDGET_MS) break;
  }
  return best;
}

let slowest = { ms: 0, what: '' };

/** Measures each case; a field found slow is not measured on its other strings. */
async function slowCases(cases: Array<[field: string, value: string, work: () => unknown]>): Promise<string[]> {
  const slow: string[] = [];
  const done = new Set<string>();
  for (const [field, value, work] of cases) {
    if (done.has(field)) continue;
    const ms = await bestOf3(work);
    if (ms > slowest.ms) slowest = { ms, what: `${field} = ${value}` };
    if (ms > BUDGET_MS) {
      slow.push(`${field} = ${value}: ${Math.round(ms)} ms`);
      done.add(field);
    }
  }
  return slow;
}

describe(`every validator of the route table, on 64 KB adversarial strings (≤ ${BUDGET_MS} ms each)`, () => {
  afterAll(() => {
    console.info(`input bounds: slowest case ${slowest.ms.toFixed(1)} ms (${slowest.what})`);
  });

  for (const [name, route] of Object.entries(ROUTES)) {
    const schemas: Array<[string, z.ZodType]> = [];
    if ('body' in route && route.body) schemas.push(['body', route.body[1]]);
    if ('query' in route && route.query) schemas.push(['query', route.query]);
    if ('requestHeaders' in route && route.requestHeaders) schemas.push(['header', route.requestHeaders]);
    if (schemas.length === 0) continue;

    it(`${name}: each field`, async () => {
      const cases: Array<[string, string, () => unknown]> = [];
      for (const [where, schema] of schemas) {
        const fields = fieldsOf(schema);
        expect(fields.length, `${name} ${where} has fields`).toBeGreaterThan(0);
        for (const field of fields) {
          for (const [label, value] of Object.entries(ADVERSARIAL)) {
            cases.push([`${where} ${field}`, label, () => validate(schema, { [field]: value })]);
          }
        }
      }
      expect(await slowCases(cases)).toEqual([]);
    }, 120_000);
  }

  it('the Idempotency-Key header, the {id} path segment, the Content-Type and the Authorization header', async () => {
    const quietly = (work: () => unknown) => async () => {
      try {
        await work();
      } catch {
        // A 4xx is the expected answer; only the time matters here.
      }
    };
    const cases: Array<[string, string, () => unknown]> = [];
    for (const [label, value] of Object.entries(ADVERSARIAL)) {
      const json = { 'content-type': `application/${value}json` };
      cases.push(
        ['Idempotency-Key', label, quietly(() => parseIdempotencyKey(value))],
        ['{id}', label, quietly(() => pathId(apiEvent({ pathParameters: { id: value } })))],
        ['Content-Type', label, quietly(() => parseJsonBody(apiEvent({ rawBody: '{}', headers: json }), N * 8))],
        ['JSON body', label, quietly(() => parseJsonBody(apiEvent({ rawBody: `{"a": "${value}`, headers: {} }), N * 8))],
        ['Authorization', label, quietly(() => authenticate(apiEvent({ headers: { authorization: `Bearer ${value}` } })))],
      );
    }
    expect(await slowCases(cases)).toEqual([]);
  }, 120_000);
});

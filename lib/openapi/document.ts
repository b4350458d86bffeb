import { z } from 'zod';
import { ROUTES, type Reply, type Route } from '../routes/index.js';

// OpenAPI 3.1, generated from the zod schemas the handlers validate with (z.toJSONSchema).
// Request bodies are described as input (what a client sends), responses as output.

type JsonSchema = Record<string, unknown>;

const COMMON: Record<number, Reply> = {
  503: { description: 'The database is busy or unavailable; retry after Retry-After seconds', json: ['DetailWithCode', z.object({ detail: z.string(), code: z.string() })], headers: ['Retry-After'] },
  504: { description: 'The request took too long and was cancelled', json: ['DetailWithCode', z.object({ detail: z.string(), code: z.string() })] },
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  // Refinements and transforms have no JSON Schema form; the shape and limits still do.
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

/** One parameter per property of an object schema (query string or request headers). */
function parameters(schema: z.ZodType, location: 'query' | 'header'): unknown[] {
  const json = jsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, { description, ...s }]) => ({
    name,
    in: location,
    required: json.required?.includes(name) ?? false,
    ...(description ? { description } : {}),
    schema: s,
  }));
}

function pathParameters(path: string): unknown[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: name === 'id' || name === 'book_id' ? { type: 'string', format: 'uuid' } : name === 'user_id' ? { type: 'string', pattern: '^[1-9][0-9]*$' } : { type: 'string' },
  }));
}

export function buildDocument(routes: Record<string, Route> = ROUTES): Record<string, unknown> {
  const schemas: Record<string, JsonSchema> = {};
  const ref = ([name, schema]: [string, z.ZodType], io: 'input' | 'output') => {
    schemas[name] ??= jsonSchema(schema, io);
    return { $ref: `#/components/schemas/${name}` };
  };
  const reply = (r: Reply) => ({
    description: r.description,
    ...(r.headers ? { headers: Object.fromEntries(r.headers.map((h) => [h, { schema: { type: 'string' } }])) } : {}),
    ...(r.json
      ? { content: { 'application/json': { schema: ref(r.json, 'output') } } }
      : r.contentType
        ? { content: { [r.contentType]: { schema: r.binary ? { type: 'string', format: 'binary' } : { type: 'string' } } } }
        : {}),
  });

  const paths: Record<string, Record<string, unknown>> = {};
  for (const [operationId, route] of Object.entries(routes)) {
    // A route's own 503 (one that names another dependency too) takes the common one's place.
    const responses = { ...(route.database ? COMMON : {}), ...route.responses };
    const params = [
      ...pathParameters(route.path),
      ...(route.query ? parameters(route.query, 'query') : []),
      ...(route.requestHeaders ? parameters(route.requestHeaders, 'header') : []),
    ];
    (paths[route.path] ??= {})[route.method.toLowerCase()] = {
      operationId,
      summary: route.summary,
      tags: [route.tag],
      security: route.auth ? [{ bearer: [] }] : [],
      ...(params.length ? { parameters: params } : {}),
      ...(route.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: ref(route.body, 'input') } } } }
        : {}),
      responses: Object.fromEntries(Object.entries(responses).map(([status, r]) => [status, reply(r)])),
    };
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Cashbook API',
      version: '1.0.0',
      description:
        'The HTTP contract of the old Django REST Framework + SimpleJWT backend. Every path also works with a ' +
        'trailing slash (`/api/token/`). Amounts are decimal strings with two places. Errors are DRF-shaped.',
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'accounts', description: 'Registration and SimpleJWT-compatible tokens' },
      { name: 'transactions', description: 'The signed-in user\'s transactions' },
      { name: 'books', description: 'The cashbooks the signed-in user is a member of' },
      { name: 'members', description: 'Shared books: members and their roles, invitations, handing ownership on' },
      { name: 'statements', description: 'A book\'s statement for a period, as PDF or Excel' },
      { name: 'transfers', description: 'Money moved between two of the user\'s books: a pair of entries kept together' },
      { name: 'attachments', description: 'Receipts: photos and PDFs of an entry, uploaded straight to S3 with a presigned POST' },
      { name: 'service', description: 'Health and documentation' },
    ],
    paths,
    components: {
      schemas,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  };
}

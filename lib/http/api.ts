import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import { getConfig } from '../config.js';
import { newStats, type ConnectionOptions, type ConnectionStats } from '../db.js';
import { RequestTimeout } from '../errors.js';
import { accountRefusal, type Caller } from '../auth/active-user.js';
import { authenticate } from './authenticate.js';
import { parseJsonBody } from './body.js';
import { errorResponse, HttpReply, json } from './responses.js';
import { cors, securityHeaders, type Csp } from './headers.js';
import { getLogger, logInvocation } from './log.js';
import { getMetrics, recordInvocation } from './metrics.js';
import { parse } from '../validation.js';
import { pathId } from './path.js';

// The one middy stack every handler uses: headers -> auth -> body -> validation -> handler ->
// errors. Everything before the handler is CPU-only: no connection is opened for a bad request.

export type Event = APIGatewayProxyEventV2;
export type Response = APIGatewayProxyStructuredResultV2;

/** What a handler gets: its validated input, and what withConnection needs. */
export interface ApiRequest<B, Q> {
  body: B;
  query: Q;
  id: string;
  /** The access token's user and iat (id 0 for `auth: false` routes); statements check both. */
  caller: Caller;
  event: Event;
  /** For withConnection: the early timeout's signal, the deadline for connect attempts, stats. */
  connection: ConnectionOptions;
  /** `METHOD /path`, the scope of an Idempotency-Key ('' for the fallbacks). */
  route: string;
  /** The route's success status. */
  status: number;
}

/**
 * What api() needs of an endpoint: an entry of the route table (lib/routes/), which adds what
 * the OpenAPI document and serverless.yml need; the 404 and 405 fallbacks have only this.
 */
export interface HandlerSpec {
  /** Require a valid access token. */
  auth: boolean;
  /** With `path`, the Idempotency-Key scope: `POST /api/books`. */
  method?: string;
  /** An {id} segment must be a UUID (else 404). */
  path?: string;
  /** Component name and schema of the JSON body. */
  body?: [string, z.ZodType];
  query?: z.ZodType;
  /** By status; the lowest 2xx is the success status (204 sends no body), 200 without any. */
  responses?: Record<number, unknown>;
  /** Content-Security-Policy for an HTML response (the docs page). */
  csp?: Csp;
}

/** The success status: the lowest 2xx reply. */
export function successStatus(spec: HandlerSpec): number {
  const statuses = Object.keys(spec.responses ?? {}).map(Number).filter((s) => s >= 200 && s < 300);
  return statuses.length ? Math.min(...statuses) : 200;
}

type BodyOf<S> = S extends { body: [string, infer T extends z.ZodType] } ? z.output<T> : undefined;
type QueryOf<S> = S extends { query: infer T extends z.ZodType } ? z.output<T> : undefined;

interface ApiContext extends Context {
  stats: ConnectionStats;
  startedAt: number;
}

const DEFAULT_REMAINING_MS = 30_000;
const ANONYMOUS: Caller = { id: 0, issuedAt: 0 };

/** A handler for `spec`, an entry of the route table (lib/routes/). */
export function api<S extends HandlerSpec>(
  spec: S,
  /** Returns the JSON body for the success status, or an HttpReply for anything else. */
  fn: (req: ApiRequest<BodyOf<S>, QueryOf<S>>) => Promise<unknown>,
) {
  // Validated at cold start: a bad environment fails the init, naming the variable.
  const config = getConfig();
  const { timeoutEarlyMs } = config.http;
  const status = successStatus(spec);
  const route = spec.method && spec.path ? `${spec.method} ${spec.path}` : '';
  const hasId = spec.path?.includes('{id}') ?? false;

  const handler = async (event: Event, context: ApiContext, { signal: shared }: { signal: AbortSignal }): Promise<Response> => {
    // @middy/core 6 hands the SAME AbortSignal to every invocation in the process (one
    // module-level AbortController, replaced only once aborted). In Lambda that is one request
    // at a time; in one process serving many (tests, --useInProcess) each request's
    // withConnection listeners pile up on it (MaxListenersExceededWarning at 11). A dependent
    // signal per invocation still aborts with it, and holds only this request's listeners.
    const signal = AbortSignal.any([shared]);
    const remaining = context.getRemainingTimeInMillis?.() ?? DEFAULT_REMAINING_MS;
    // Authentication first, as DRF's APIView.initial() runs before the view reads its input: an
    // anonymous request with a bad body or id is a 401, never a 400 or 404 that probes the API.
    const caller = spec.auth ? await authenticate(event) : ANONYMOUS;
    const body = spec.body ? parse(spec.body[1], parseJsonBody(event, config.http.maxBodyBytes)) : undefined;
    const query = spec.query ? parse(spec.query, event.queryStringParameters ?? {}) : undefined;
    const id = hasId ? pathId(event) : '';
    const result = await fn({
      body: body as BodyOf<S>,
      query: query as QueryOf<S>,
      id,
      caller,
      event,
      connection: {
        signal,
        // Stop retrying connects early enough to still answer before the early timeout.
        deadline: context.startedAt + remaining - timeoutEarlyMs - config.db.deadlineMarginMs,
        stats: context.stats,
      },
      route,
      status,
    }).catch((err: unknown) => {
      // A data statement found the token's user deleted or deactivated, or the token revoked (lib/auth/active-user.ts).
      throw accountRefusal(err) ?? err;
    });
    return result instanceof HttpReply ? result.toResponse() : json(status, result);
  };

  const logger = getLogger(config);
  const metrics = config.metrics.enabled ? getMetrics(config) : undefined;
  const done = (request: { context: ApiContext; error?: unknown } & Parameters<typeof logInvocation>[0]) => {
    logInvocation(request, logger);
    if (metrics) recordInvocation(metrics, request.context.stats, request.error);
  };

  // after/onError run bottom-up: the error becomes a response first, then CORS and security
  // headers are added to it, then the metrics are flushed.
  const stack = middy<Event, Response, Error, ApiContext>({
    timeoutEarlyInMillis: timeoutEarlyMs,
    timeoutEarlyResponse: () => {
      throw new RequestTimeout();
    },
  });
  if (metrics) stack.use(logMetrics(metrics));
  return stack
    .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
    .use(httpHeaderNormalizer())
    .use(securityHeaders(spec.csp))
    .use(cors(config))
    .use({
      before: ({ context }) => {
        context.stats = newStats();
        context.startedAt = Date.now();
      },
      after: done,
      onError: (request) => {
        request.response = errorResponse(request.error, request.context.awsRequestId);
        done(request);
      },
    })
    .handler(handler);
}

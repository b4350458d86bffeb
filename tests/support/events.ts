import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

// API Gateway HTTP API (payload v2) events and a Lambda context, as the runtime passes them.

export interface EventInput {
  method?: string;
  path?: string;
  routeKey?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  pathParameters?: Record<string, string>;
  token?: string;
}

export function apiEvent(input: EventInput = {}): APIGatewayProxyEventV2 {
  const method = input.method ?? 'GET';
  const path = input.path ?? '/api/';
  const headers: Record<string, string> = { host: 'api.example.com', 'x-forwarded-proto': 'https', ...input.headers };
  let body = input.rawBody;
  if (body === undefined && input.body !== undefined) {
    body = JSON.stringify(input.body);
    headers['content-type'] ??= 'application/json';
  }
  if (input.token) headers.authorization = `Bearer ${input.token}`;
  const rawQueryString = new URLSearchParams(input.query ?? {}).toString();
  return {
    version: '2.0',
    routeKey: input.routeKey ?? `${method} ${path}`,
    rawPath: path,
    rawQueryString,
    headers,
    queryStringParameters: input.query,
    pathParameters: input.pathParameters,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: randomUUID(),
      routeKey: input.routeKey ?? `${method} ${path}`,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
  } as APIGatewayProxyEventV2;
}

export function lambdaContext(timeoutMs = 10_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'cashbook-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:cashbook-test',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/cashbook-test',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: any;
  raw: string | undefined;
}

/** Invokes a handler as Lambda would and parses its reply when it is JSON (`raw` is the text). */
export async function invoke(handler: unknown, input: EventInput = {}, timeoutMs?: number): Promise<Reply> {
  const result = await (handler as Handler)(apiEvent(input), lambdaContext(timeoutMs));
  const raw = result.body;
  const headers = (result.headers ?? {}) as Record<string, string>;
  const isJson = /json/.test(headers['Content-Type'] ?? 'application/json');
  return { status: result.statusCode ?? 0, headers, body: raw && isJson ? JSON.parse(raw) : undefined, raw };
}

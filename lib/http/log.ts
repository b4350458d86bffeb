import type { ConnectionStats } from '../db.js';
import { AppError } from '../errors.js';

type Level = 'debug' | 'info' | 'warn' | 'error' | 'silent';

interface LoggedRequest {
  event: { routeKey?: string; requestContext?: { http?: { method?: string; path?: string } } };
  context: { awsRequestId?: string; functionName?: string; stats?: ConnectionStats; startedAt?: number };
  response?: { statusCode?: number } | undefined;
  error?: unknown;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/**
 * One JSON line per invocation: route, status, duration and how the invocation used its
 * connection. No headers, bodies, tokens or passwords are ever logged.
 */
export function logInvocation(request: LoggedRequest, level: Level): void {
  if (level === 'silent') return;
  const status = request.response?.statusCode ?? 500;
  if (level === 'warn' && status < 500) return;
  if (level === 'error' && status < 500) return;
  const { stats, startedAt, awsRequestId, functionName } = request.context;
  const error = request.error;
  const line: Record<string, unknown> = {
    level: status >= 500 ? 'error' : 'info',
    msg: 'request',
    requestId: awsRequestId,
    function: functionName,
    route: request.event.routeKey,
    status,
    durationMs: startedAt ? Date.now() - startedAt : undefined,
    db: stats && {
      connectAttempts: stats.connectAttempts,
      connectMs: round(stats.connectMs),
      heldMs: round(stats.heldMs),
    },
    outcome: error ? (error instanceof AppError ? error.code : 'internal_error') : 'ok',
  };
  if (error && !(error instanceof AppError && error.status < 500)) {
    const e = error as Error & { code?: string; cause?: { code?: string; message?: string } };
    line.error = { name: e.name, message: e.message, code: e.code, cause: e.cause?.code ?? e.cause?.message };
    if (!(error instanceof AppError)) line.stack = e.stack;
  }
  console.log(JSON.stringify(line));
}

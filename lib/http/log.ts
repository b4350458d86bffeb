import { Logger } from '@aws-lambda-powertools/logger';
import type { Config } from '../config.js';
import type { ConnectionStats } from '../db.js';
import { AppError } from '../errors.js';

export const SERVICE_NAME = 'cashbook-api';

interface LoggedRequest {
  event: { routeKey?: string; requestContext?: { http?: { method?: string; path?: string } } };
  context: { awsRequestId?: string; functionName?: string; stats?: ConnectionStats; startedAt?: number };
  response?: { statusCode?: number } | undefined;
  error?: unknown;
}

let logger: Logger | undefined;

/**
 * One Powertools logger per container. JSON in Lambda; POWERTOOLS_DEV=true pretty-prints it
 * locally. LOG_LEVEL=silent prints nothing (tests).
 */
export function getLogger(config: Pick<Config, 'logLevel'>): Logger {
  logger ??= new Logger({ serviceName: SERVICE_NAME, logLevel: config.logLevel.toUpperCase() as 'INFO' });
  return logger;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/**
 * One line per invocation: route, status, duration and how the invocation used its
 * connection. No headers, bodies, tokens or passwords are ever logged (event logging stays off).
 */
export function logInvocation(request: LoggedRequest, log: Logger): void {
  const status = request.response?.statusCode ?? 500;
  const { stats, startedAt, awsRequestId, functionName } = request.context;
  const error = request.error;
  const line: Record<string, unknown> = {
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
    line.failure = { name: e.name, message: e.message, code: e.code, cause: e.cause?.code ?? e.cause?.message };
    if (!(error instanceof AppError)) line.stack = e.stack;
  }
  if (status >= 500) log.error('request', line);
  else log.info('request', line);
}

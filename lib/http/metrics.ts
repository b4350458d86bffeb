import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Config } from '../config.js';
import type { ConnectionStats } from '../db.js';
import { DatabaseUnavailable } from '../errors.js';
import { SERVICE_NAME } from './log.js';

let metrics: Metrics | undefined;

/** CloudWatch EMF metrics, one set per invocation, with the function as a dimension. */
export function getMetrics(config: Pick<Config, 'functionName' | 'metrics'>): Metrics {
  metrics ??= new Metrics({
    namespace: config.metrics.namespace,
    serviceName: SERVICE_NAME,
    defaultDimensions: { function: config.functionName },
  });
  return metrics;
}

/** Adds the invocation's connection numbers; the logMetrics middleware flushes them. */
export function recordInvocation(m: Metrics, stats: ConnectionStats | undefined, error: unknown): void {
  if (stats && stats.connectAttempts > 0) {
    m.addMetric('DbConnectMs', MetricUnit.Milliseconds, Math.round(stats.connectMs * 10) / 10);
    m.addMetric('DbHeldMs', MetricUnit.Milliseconds, Math.round(stats.heldMs * 10) / 10);
    m.addMetric('DbConnectRetries', MetricUnit.Count, stats.connectAttempts - 1);
  }
  // Always emitted (0 or 1) so an alarm on the sum sees data, not gaps.
  m.addMetric('DbBudgetExhausted', MetricUnit.Count, error instanceof DatabaseUnavailable ? 1 : 0);
}

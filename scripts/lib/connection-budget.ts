// The database connection budget of a deployed stage, derived from the server's max_connections
// (SHOW max_connections; RDS sets it from the instance's memory) and the stage's dbAdminHeadroom.
// Read by `npm run deploy` (the role's CONNECTION LIMIT, the reservations check) and, through
// scripts/proxy-pool.cjs, by serverless.yml (RDS Proxy's pool), so the two cannot disagree.

/** The application role's CONNECTION LIMIT: the server's slots minus those kept for admins. */
export const connectionLimit = (p: { dbMaxConnections: number | string; dbAdminHeadroom: number | string }) =>
  Number(p.dbMaxConnections) - Number(p.dbAdminHeadroom);

/**
 * RDS Proxy's pool for a role limited to `limit` connections on a server with `maxConnections`:
 * the proxy opens up to MaxConnectionsPercent of max_connections, and every one of them logs in
 * as the application role, so the share is rounded down to fit the role's CONNECTION LIMIT
 * (90% of 80 = 72 would exceed a limit of 70, and the database would refuse the rest). Idle
 * connections kept: half of that, never more than the pool.
 */
export function proxyPool(maxConnections: number, limit: number): { maxConnectionsPercent: number; maxIdleConnectionsPercent: number } {
  const max = Math.max(1, Math.min(100, Math.floor((100 * limit) / maxConnections)));
  return { maxConnectionsPercent: max, maxIdleConnectionsPercent: Math.floor(max / 2) };
}

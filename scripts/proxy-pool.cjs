// RDS Proxy's pool in serverless.yml (`${file(./scripts/proxy-pool.cjs):maxConnectionsPercent}`),
// computed from the stage's dbMaxConnections and dbAdminHeadroom by scripts/lib/connection-budget.ts,
// so no stage writes percentages by hand. `npm run deploy` passes the server's max_connections
// as `--param=dbMaxConnections=<n>`, which takes precedence over the value in params.
const tsx = require('tsx/cjs/api');

async function pool(resolveVariable) {
  const { connectionLimit, proxyPool } = tsx.require('./lib/connection-budget.ts', __filename);
  const dbMaxConnections = Number(await resolveVariable('param:dbMaxConnections'));
  const dbAdminHeadroom = Number(await resolveVariable('param:dbAdminHeadroom'));
  return proxyPool(dbMaxConnections, connectionLimit({ dbMaxConnections, dbAdminHeadroom }));
}

module.exports = {
  maxConnectionsPercent: async ({ resolveVariable }) => (await pool(resolveVariable)).maxConnectionsPercent,
  maxIdleConnectionsPercent: async ({ resolveVariable }) => (await pool(resolveVariable)).maxIdleConnectionsPercent,
};

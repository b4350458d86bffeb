import { afterAll, describe, expect, inject, it } from 'vitest';
import { roleSettingsFor, serverMaxConnections, setupAppRole } from '../../scripts/lib/database-setup.js';
import { adminQuery } from '../support/db.js';

// The application role for IAM database auth, as `npm run deploy` sets it up on RDS: no password,
// member of rds_iam. RDS provides rds_iam; here a stand-in role plays it.

const ROLE = 'cashbook_iam_setup_test';

describe('setupAppRole with iam', () => {
  afterAll(async () => {
    await adminQuery(`DROP OWNED BY ${ROLE}`).catch(() => undefined);
    await adminQuery(`DROP ROLE IF EXISTS ${ROLE}`);
  });

  it('creates the role without a password, in rds_iam, with its connection limit and server-side limits', async () => {
    await adminQuery("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam') THEN CREATE ROLE rds_iam NOLOGIN; END IF; END $$");
    await setupAppRole(inject('adminUrl'), { name: ROLE, password: 'ignored-with-iam', iam: true, connectionLimit: 7 });
    // Running it again (every deploy does) changes nothing.
    await setupAppRole(inject('adminUrl'), { name: ROLE, iam: true, connectionLimit: 7 });
    const [role] = await adminQuery<{ rolconnlimit: number; has_password: boolean; in_rds_iam: boolean; config: string[] }>(
      `SELECT r.rolconnlimit, a.rolpassword IS NOT NULL AS has_password,
              pg_has_role(r.rolname, 'rds_iam', 'MEMBER') AS in_rds_iam, r.rolconfig AS config
         FROM pg_roles r JOIN pg_authid a ON a.oid = r.oid WHERE r.rolname = $1`,
      [ROLE],
    );
    expect(role).toMatchObject({ rolconnlimit: 7, has_password: false, in_rds_iam: true });
    expect(role!.config).toEqual(expect.arrayContaining(['statement_timeout=5000', 'idle_in_transaction_session_timeout=5000']));
  });

  it('behind RDS Proxy, leaves the proxy’s idle pooled sessions alone (idle_session_timeout 0)', async () => {
    await setupAppRole(inject('adminUrl'), { name: ROLE, iam: true, connectionLimit: 7, settings: roleSettingsFor('proxy') });
    const [role] = await adminQuery<{ config: string[] }>('SELECT rolconfig AS config FROM pg_roles WHERE rolname = $1', [ROLE]);
    expect(role!.config).toEqual(expect.arrayContaining(['idle_session_timeout=0', 'statement_timeout=5000']));
    // Direct mode (the next deploy without the proxy) puts the timeout back.
    await setupAppRole(inject('adminUrl'), { name: ROLE, iam: true, connectionLimit: 7, settings: roleSettingsFor('direct') });
    const [direct] = await adminQuery<{ config: string[] }>('SELECT rolconfig AS config FROM pg_roles WHERE rolname = $1', [ROLE]);
    expect(direct!.config).toContain('idle_session_timeout=60000');
  });

  it('reads the server’s max_connections, from which the deploy derives the role’s limit and the proxy’s pool', async () => {
    const [row] = await adminQuery<{ max_connections: string }>('SHOW max_connections');
    await expect(serverMaxConnections(inject('adminUrl'))).resolves.toBe(Number(row!.max_connections));
  });

  it('refuses a role with neither a password nor IAM', async () => {
    await expect(setupAppRole(inject('adminUrl'), { name: ROLE, connectionLimit: 1 })).rejects.toThrow('needs a password or iam');
  });
});

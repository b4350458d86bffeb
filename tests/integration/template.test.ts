import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_ROLE_SETTINGS } from '../../scripts/lib/database-setup.js';
import { apiEvent, lambdaContext } from '../support/events.js';
import { makeTestPki } from '../support/tls.js';
import { readZip, type ZipEntry } from '../support/zip.js';

// What `npm run deploy` would ship, checked offline: `serverless package --stage dev` with no
// AWS credentials, then assertions on the CloudFormation template and on the zips — and the
// packaged getHealth/verifyToken bundles are run once to prove their lazily loaded AWS SDK file
// works (IAM token over TLS, JWT secret from SSM), against local fakes.

const root = fileURLToPath(new URL('../..', import.meta.url));
const STAGE = 'dev';
const API_GATEWAY_TIMEOUT_S = 30;
/** Zipped size that counts as a regression (see docs/deploy.md, "Bundle size"). */
const ZIP_BUDGET_BYTES = 300 * 1024;
/**
 * Functions allowed a larger zip, each for a stated reason. getDocsAsset inlines Swagger UI's
 * bundle and stylesheet (`?raw` imports, ~950 KB zipped) on purpose, so the docs work offline with
 * no CDN; it is the only function that carries them, and every other one keeps ZIP_BUDGET_BYTES.
 */
const ZIP_BUDGET_OVERRIDES: Record<string, number> = { getDocsAsset: 1200 * 1024 };
/** Functions that never open a database connection (no reserved concurrency needed). */
const NO_DATABASE = ['refreshToken', 'verifyToken', 'methodNotAllowed', 'notFound', 'getOpenApi', 'getDocs', 'getDocsAsset'];
/** The dev stage's params.corsAllowedOrigins in serverless.yml (comma separated). */
const CORS_ORIGINS = 'http://localhost:5173';

type Json = any;
let dir: string;
let template: Json;
let state: Json;
let zips: Record<string, ZipEntry[]>;

const resources = (type: string): Array<[string, Json]> =>
  Object.entries(template.Resources as Record<string, Json>).filter(([, r]) => r.Type === type);

/** Renders an intrinsic as a string, with the UseRdsProxy condition false (the dev stage). */
function render(value: Json): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (value.Ref) return `{${value.Ref}}`;
  if (value['Fn::Join']) return value['Fn::Join'][1].map(render).join(value['Fn::Join'][0]);
  if (value['Fn::If']) return render(value['Fn::If'][2]);
  if (value['Fn::Sub']) return value['Fn::Sub'];
  if (value['Fn::GetAtt']) return `{${value['Fn::GetAtt'].join('.')}}`;
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cashbook-package-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // No credentials anywhere: packaging must not need AWS.
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    AWS_SESSION_TOKEN: '',
    AWS_PROFILE: '',
    AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
    // A deployer's shell may hold local secrets: none of them may reach the template.
    DB_PASSWORD: 'shell-db-password-must-not-ship',
  };
  await promisify(execFile)(
    process.execPath,
    [join(root, 'node_modules/serverless/bin/serverless.js'), 'package', '--stage', STAGE, '--region', 'eu-west-1', '--package', join(dir, 'out')],
    { cwd: root, env, maxBuffer: 16 * 1024 * 1024, timeout: 280_000 },
  );
  template = JSON.parse(readFileSync(join(dir, 'out/cloudformation-template-update-stack.json'), 'utf8'));
  state = JSON.parse(readFileSync(join(dir, 'out/serverless-state.json'), 'utf8'));
  zips = Object.fromEntries(
    readdirSync(join(dir, 'out'))
      .filter((f) => f.endsWith('.zip'))
      .map((f) => [f.slice(0, -4), readZip(join(dir, 'out', f))]),
  );
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe(`serverless package --stage ${STAGE} (offline, no AWS credentials)`, () => {
  it('has one function per file in functions/, with that file as its handler', () => {
    // Sources only: build output such as functions/aws-sdk.mjs is not a function.
    const files = readdirSync(join(root, 'functions')).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
    const handlers = resources('AWS::Lambda::Function').map(([, f]) => f.Properties.Handler).sort();
    // Sorted after mapping: '-' sorts before '.', so get-docs-asset.ts and get-docs.ts swap.
    expect(handlers).toEqual(files.map((f) => `functions/${f.slice(0, -3)}.handler`).sort());
  });

  it('routes exactly the httpApi events of serverless.yml, each to its own function', () => {
    const declared = Object.entries(state.service.functions as Record<string, Json>).flatMap(([name, fn]) =>
      (fn.events as Json[]).map((e) => {
        const ev = e.httpApi;
        const key = ev === '*' ? '$default' : `${ev.method === 'ANY' ? 'ANY' : ev.method.toUpperCase()} ${ev.path}`;
        return `${key} -> ${name[0]!.toUpperCase()}${name.slice(1)}LambdaFunction`;
      }),
    );
    const integrations = Object.fromEntries(
      resources('AWS::ApiGatewayV2::Integration').map(([id, i]) => [id, i.Properties.IntegrationUri['Fn::GetAtt'][0]]),
    );
    const routes = resources('AWS::ApiGatewayV2::Route').map(
      ([, r]) => `${r.Properties.RouteKey} -> ${integrations[r.Properties.Target['Fn::Join'][1][1].Ref]}`,
    );
    expect(routes.sort()).toEqual(declared.sort());
  });

  it('covers the API contract in README.md (paths with and without the trailing slash)', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    // A cell reads e.g. `DELETE /api/books/{id}/[?force=true]` or `GET /api/transactions/?page=&…`:
    // the route is the path before any query string or bracketed optional part, minus the slash.
    const contract = [...readme.matchAll(/^\| `(GET|POST|PUT|PATCH|DELETE) (\/api\/[^`\s]*)/gm)].map(
      ([, method, path]) => `${method} ${path!.replace(/[?[].*$/, '').replace(/\/$/, '')}`,
    );
    expect(contract.length).toBeGreaterThanOrEqual(12);
    for (const route of contract) expect(route, route).toMatch(/^[A-Z]+ \/api(\/[\w.-]+|\/\{\w+\})+$/);
    const keys = resources('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey);
    for (const route of contract) expect(keys, route).toContain(route);
  });

  it('runs every function on nodejs24.x, arm64, in the VPC, with timeouts ordered from the outside in', () => {
    for (const [id, fn] of resources('AWS::Lambda::Function')) {
      const p = fn.Properties;
      expect(p.Runtime, id).toBe('nodejs24.x');
      expect(p.Architectures, id).toEqual(['arm64']);
      expect(p.VpcConfig.SubnetIds.length, id).toBeGreaterThan(0);
      expect(p.VpcConfig.SecurityGroupIds.length, id).toBeGreaterThan(0);
      const timeoutMs = p.Timeout * 1000;
      const early = Number(p.Environment.Variables.TIMEOUT_EARLY_MS);
      expect(p.Timeout, id).toBeLessThan(API_GATEWAY_TIMEOUT_S);
      expect(early, id).toBeGreaterThan(0);
      expect(early, id).toBeLessThan(timeoutMs);
      // A query is cancelled by the server before middy gives up on the invocation.
      expect(DEFAULT_ROLE_SETTINGS.statementTimeoutMs, id).toBeLessThan(timeoutMs - early);
      expect(Number(p.Environment.Variables.DB_DEADLINE_MARGIN_MS), id).toBeLessThan(timeoutMs - early);
    }
  });

  it('keeps logs for the stage’s retention and allows CORS only from the configured origins', () => {
    for (const [, group] of resources('AWS::Logs::LogGroup')) expect(group.Properties.RetentionInDays).toBe(14);
    // CORS is answered by the functions (@middy/http-cors, CORS_ORIGINS), not by API Gateway: an
    // HTTP API with a CORS configuration would override the functions' headers.
    expect(template.Resources.HttpApi.Properties.CorsConfiguration).toBeUndefined();
    for (const [id, fn] of resources('AWS::Lambda::Function')) {
      expect(fn.Properties.Environment.Variables.CORS_ORIGINS, id).toBe(CORS_ORIGINS);
    }
    // Preflight OPTIONS needs a route to a function: every path has its ANY route (methodNotAllowed).
    const keys = resources('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey as string);
    const paths = new Set(keys.filter((k) => k !== '$default').map((k) => k.split(' ')[1]));
    for (const path of paths) expect(keys, path).toContain(`ANY ${path}`);
  });

  it('configures IAM database auth over verified TLS and the JWT secret by SSM parameter name', () => {
    for (const [id, fn] of resources('AWS::Lambda::Function')) {
      const env = fn.Properties.Environment.Variables;
      expect(env, id).toMatchObject({
        DB_AUTH: 'iam',
        DB_SSL: 'verify-full',
        DB_SSL_CA: '/var/runtime/ca-cert.pem',
        DB_USER: 'cashbook_app',
        DB_PASSWORD: '',
        DATABASE_URL: '',
        JWT_SECRET: '',
        JWT_SECRET_SSM_PARAMETER: `/cashbook/${STAGE}/jwt-secret`,
      });
      expect(render(env.DB_HOST)).toMatch(/\.rds\.amazonaws\.com$/);
    }
  });

  it('grants least privilege: rds-db:connect for one database user, ssm:GetParameter for one parameter', () => {
    const role = template.Resources.IamRoleLambdaExecution.Properties;
    const statements = role.Policies.flatMap((p: Json) => p.PolicyDocument.Statement);
    const nonLogs = statements.filter((s: Json) => !asList(s.Action).every((a: string) => a.startsWith('logs:')));
    expect(nonLogs.map((s: Json) => ({ action: asList(s.Action), resource: asList(s.Resource).map(render) }))).toEqual([
      { action: ['rds-db:connect'], resource: ['arn:aws:rds-db:{AWS::Region}:{AWS::AccountId}:dbuser:db-REPLACE-ME/cashbook_app'] },
      { action: ['ssm:GetParameter'], resource: [`arn:aws:ssm:{AWS::Region}:{AWS::AccountId}:parameter/cashbook/${STAGE}/jwt-secret`] },
    ]);
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      for (const action of asList(s.Action)) expect(action).not.toContain('*');
      for (const resource of asList(s.Resource).map(render)) {
        if (!asList(s.Action).every((a: string) => a.startsWith('logs:'))) expect(resource).not.toContain('*');
      }
    }
    // The only managed policy: ENI management for a function in a VPC (its EC2 actions take no resource ARN).
    expect(role.ManagedPolicyArns.map(render)).toEqual(['arn:{AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']);
    // The optional RDS Proxy's role may read its one secret, nothing else.
    const proxyRole = template.Resources.CashbookDbProxyRole;
    expect(proxyRole.Condition).toBe('UseRdsProxy');
    expect(proxyRole.Properties.Policies[0].PolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: expect.stringMatching(/^arn:aws:secretsmanager:[^*]+$/) },
    ]);
  });

  it('defines the optional RDS Proxy with IAM auth and TLS required, created only when useRdsProxy is true', () => {
    expect(template.Conditions.UseRdsProxy).toEqual({ 'Fn::Equals': ['false', 'true'] });
    const proxy = template.Resources.CashbookDbProxy;
    expect(proxy.Condition).toBe('UseRdsProxy');
    expect(proxy.Properties).toMatchObject({ EngineFamily: 'POSTGRESQL', RequireTLS: true });
    expect(proxy.Properties.Auth).toEqual([expect.objectContaining({ AuthScheme: 'SECRETS', IAMAuth: 'REQUIRED' })]);
    expect(template.Resources.CashbookDbProxyTargetGroup.Condition).toBe('UseRdsProxy');
  });

  it('contains no plaintext secret, even when the deployer’s shell holds some', () => {
    const text = JSON.stringify(template) + JSON.stringify(state.service.provider);
    expect(text).not.toContain(process.env.JWT_SECRET!);
    expect(text).not.toContain(new URL(inject('appUrl')).password);
    expect(text).not.toContain('shell-db-password-must-not-ship');
    expect(text).not.toMatch(/"(JWT_SECRET|DB_PASSWORD)":"[^"]/);
  });

  it('ships each function as its handler plus the shared lazy aws-sdk.mjs, within the size budget', () => {
    const rows: string[] = [];
    for (const [name, entries] of Object.entries(zips)) {
      const handler = (state.service.functions[name].handler as string).replace(/\.handler$/, '.mjs');
      expect(entries.map((e) => e.name).sort(), name).toEqual(['functions/aws-sdk.mjs', handler].sort());
      const code = entries.find((e) => e.name === handler)!.read().toString('utf8');
      const sdk = entries.find((e) => e.name === 'functions/aws-sdk.mjs')!.read().toString('utf8');
      // SigV4 and SSM's wire protocol live in aws-sdk.mjs only, reached through import() alone.
      const SDK_CODE = /AWS4-HMAC-SHA256|aws4_request|AmazonSSM\./;
      expect(SDK_CODE.test(sdk), name).toBe(true);
      expect(SDK_CODE.test(code), `${name}: SDK code in the handler bundle`).toBe(false);
      expect(/from\s*["']\.\/aws-sdk\.mjs["']/.test(code), `${name}: static import of aws-sdk.mjs`).toBe(false);
      const zipped = entries.reduce((n, e) => n + e.compressedSize, 0);
      expect(zipped, name).toBeLessThan(ZIP_BUDGET_OVERRIDES[name] ?? ZIP_BUDGET_BYTES);
      rows.push(`${name.padEnd(22)} ${(zipped / 1024).toFixed(0).padStart(4)} KB zipped (handler ${(
        entries.find((e) => e.name === handler)!.compressedSize / 1024
      ).toFixed(0)} KB + aws-sdk.mjs ${(entries.find((e) => e.name === 'functions/aws-sdk.mjs')!.compressedSize / 1024).toFixed(0)} KB)`);
    }
    console.log(`Bundle sizes (stage ${STAGE}):\n${rows.join('\n')}`);
    for (const name of Object.keys(ZIP_BUDGET_OVERRIDES)) expect(Object.keys(zips), name).toContain(name);
    expect(Object.keys(zips).sort()).toEqual(Object.keys(state.service.functions).sort());
  });

  it('limits reserved concurrency on prod to the connection budget, for every function that connects', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(root, 'node_modules/serverless/bin/serverless.js'), 'print', '--stage', 'prod', '--region', 'eu-west-1', '--format', 'json'],
      { cwd: root, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
    );
    const printed = JSON.parse(stdout);
    const params = printed.params.prod;
    // The reservations reach CloudFormation through resources.extensions: one entry per function.
    const extended = Object.keys(printed.resources.extensions).sort();
    const functions = Object.keys(state.service.functions).map((f) => `${f[0]!.toUpperCase()}${f.slice(1)}LambdaFunction`);
    expect(extended).toEqual(functions.sort());
    expect(printed.resources.extensions.ListTransactionsLambdaFunction.Properties.ReservedConcurrentExecutions).toBe(
      params.reservedConcurrency.listTransactions,
    );
    const reserved = params.reservedConcurrency as Record<string, number>;
    const total = Object.values(reserved).reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(params.dbMaxConnections - params.dbAdminHeadroom);
    const connecting = Object.keys(state.service.functions).filter((f) => !NO_DATABASE.includes(f));
    expect(Object.keys(reserved).sort()).toEqual(connecting.sort());
  }, 130_000);
});

describe('the packaged bundles, run as Lambda would', () => {
  let extracted: string;
  const servers: Array<Server | HttpServer> = [];
  const saved = { ...process.env };

  beforeAll(() => {
    extracted = join(dir, 'run');
    for (const fn of ['getHealth', 'verifyToken']) {
      for (const entry of zips[fn]!) {
        const path = join(extracted, fn, entry.name);
        mkdirSync(join(path, '..'), { recursive: true });
        writeFileSync(path, entry.read());
      }
    }
  });

  afterAll(async () => {
    process.env = saved;
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });

  const listen = async <S extends Server | HttpServer>(server: S) => {
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  };

  /** Imports the bundle (its configuration is read then, as at a cold start) and invokes it once. */
  async function coldStart(fn: string, file: string, env: Record<string, string>, event: Json, timeoutMs = 10_000) {
    // The SDK reads credentials and endpoints from the environment at call time, too.
    process.env = { ...saved, ...env };
    try {
      const { handler } = await import(pathToFileURL(join(extracted, fn, 'functions', file)).href);
      return await handler(event, lambdaContext(timeoutMs));
    } finally {
      process.env = saved;
    }
  }

  it('getHealth signs an IAM token with the bundled signer and sends it as the password over TLS', async () => {
    const pki = makeTestPki(join(dir, 'pki'), ['localhost']);
    const passwords: string[] = [];
    // A PostgreSQL front: accepts TLS, asks for a cleartext password, records it, hangs up.
    const port = await listen(
      createServer((raw: Socket) => {
        raw.once('data', () => {
          raw.write('S');
          const tls = new TLSSocket(raw, { isServer: true, key: readFileSync(pki.keyFile), cert: readFileSync(pki.certFile) });
          let stage = 'startup';
          tls.on('data', (chunk: Buffer) => {
            if (stage === 'startup') {
              stage = 'password';
              tls.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3])); // AuthenticationCleartextPassword
            } else if (chunk[0] === 0x70) {
              passwords.push(chunk.subarray(5, chunk.length - 1).toString('utf8'));
              // Refuse it as RDS refuses a bad token: 28P01, which is never retried.
              const fields = Buffer.from('SFATAL\0C28P01\0MPAM authentication failed\0\0');
              const header = Buffer.alloc(5);
              header.write('E');
              header.writeInt32BE(fields.length + 4, 1);
              tls.end(Buffer.concat([header, fields]));
            }
          });
          tls.on('error', () => {});
        });
        raw.on('error', () => {});
      }),
    );
    const response = await coldStart('getHealth', 'get-health.mjs', {
      DATABASE_URL: '',
      DB_HOST: 'localhost',
      DB_PORT: String(port),
      DB_NAME: 'cashbook',
      DB_USER: 'cashbook_app',
      DB_AUTH: 'iam',
      DB_SSL: 'require',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIAFAKEBUNDLETEST01',
      AWS_SECRET_ACCESS_KEY: 'fakeSecretKeyForBundleTestsOnly0123456789',
      AWS_SESSION_TOKEN: '',
      AWS_LAMBDA_FUNCTION_NAME: 'cashbook-api-dev-getHealth',
    }, apiEvent({ method: 'GET', path: '/api/health/' }));
    expect(response.statusCode).toBe(503);
    // Usually one attempt; on a slow machine the first (SDK still loading) may hit the connect
    // timeout and be retried. Every password sent is a token, and 28P01 ends the retries.
    expect(passwords.length).toBeGreaterThanOrEqual(1);
    for (const password of passwords) {
      expect(password).toMatch(/^localhost:\d+\/\?Action=connect&DBUser=cashbook_app&X-Amz-Algorithm=AWS4-HMAC-SHA256/);
      expect(password).toContain('AKIAFAKEBUNDLETEST01');
    }
  }, 20_000);

  it('verifyToken reads the JWT secret from SSM with the bundled client', async () => {
    const targets: string[] = [];
    const port = await listen(
      createHttpServer((req, res) => {
        targets.push(String(req.headers['x-amz-target']));
        req.resume().on('end', () => {
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ Parameter: { Value: 'secret-from-ssm-at-least-32-characters-long' } }));
        });
      }),
    );
    const response = await coldStart('verifyToken', 'verify-token.mjs', {
      DATABASE_URL: 'postgres://u@localhost/cashbook',
      JWT_SECRET: '',
      JWT_SECRET_SSM_PARAMETER: '/cashbook/dev/jwt-secret',
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${port}`,
      AWS_ACCESS_KEY_ID: 'AKIAFAKEBUNDLETEST01',
      AWS_SECRET_ACCESS_KEY: 'fakeSecretKeyForBundleTestsOnly0123456789',
      AWS_SESSION_TOKEN: '',
    }, apiEvent({ method: 'POST', path: '/api/token/verify/', body: { token: 'not.a.token' } }));
    // 401, not 500: the secret was fetched, then the token judged.
    expect(response.statusCode).toBe(401);
    expect(targets).toEqual(['AmazonSSM.GetParameter']);
  });
});

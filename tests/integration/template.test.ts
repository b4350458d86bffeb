import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_ROLE_SETTINGS, roleSettingsFor } from '../../scripts/lib/database-setup.js';
import {
  checkConcurrencyQuota,
  checkStageParams,
  connectionLimit,
  findPlaceholders,
  NO_DATABASE_FUNCTIONS,
  proxyPool,
  sumReservations,
} from '../../scripts/lib/deploy.js';
import * as errors from '../../lib/errors.js';
import { RDS_CA_FILE } from '../../scripts/lib/rds-ca.js';
import { sdkFileOf } from '../../scripts/lib/serverless-functions.js';
import { validateTemplate } from '../support/cfn-spec.js';
import { allows, deployerNeeds, type Need } from '../support/deployer-permissions.js';
import { documentedRoutes } from '../support/api-doc.js';
import { apiEvent, lambdaContext } from '../support/events.js';
import { makeTestPki, type TestPki } from '../support/tls.js';
import { readZip, type ZipEntry } from '../support/zip.js';

// What `npm run deploy` would ship, checked offline: `serverless package` with no AWS
// credentials for dev, prod, and prod with RDS Proxy, then assertions on the CloudFormation
// templates (validated against the CloudFormation resource specification) and on the zips — and
// the packaged getHealth/verifyToken bundles are run to prove their lazily loaded AWS SDK file and
// the shipped CA bundle work (IAM token over verified TLS, JWT secret from SSM), against local fakes.

const root = fileURLToPath(new URL('../..', import.meta.url));
const STAGE = 'dev';
const API_GATEWAY_TIMEOUT_S = 30;
/** Zipped size that counts as a regression (see docs/deploy.md, "Bundle size"). */
const ZIP_BUDGET_BYTES = 305 * 1024;
/**
 * Functions allowed a larger zip, each for a stated reason. getDocsAsset inlines Swagger UI's
 * bundle and stylesheet (`?raw` imports, ~950 KB zipped) on purpose, so the docs work offline with
 * no CDN; it is the only function that carries them, and every other one keeps ZIP_BUDGET_BYTES.
 */
const ZIP_BUDGET_OVERRIDES: Record<string, number> = {
  getDocsAsset: 1200 * 1024,
  // The receipts' functions carry aws-sdk-s3.mjs, the lazy SDK file with the S3 client and the
  // presigners (~105 KB zipped more than aws-sdk.mjs): they are the only functions that talk to
  // S3, so every other one keeps ZIP_BUDGET_BYTES (docs/deploy.md, "Bundle size").
  createAttachment: 450 * 1024,
  completeAttachment: 450 * 1024,
  listAttachments: 450 * 1024,
  deleteAttachment: 450 * 1024,
  // getOpenApi builds the whole OpenAPI document (every route's schemas, the route table), so it
  // grows with each endpoint: shared books' ten pushed it past the common budget by 1 KB.
  getOpenApi: 330 * 1024,
};
const NO_DATABASE = NO_DATABASE_FUNCTIONS;
/** The error classes of lib/errors.ts, by name. */
const ERROR_CLASSES = Object.entries(errors)
  .filter(([, value]) => typeof value === 'function' && value.prototype instanceof Error)
  .map(([name]) => name);
/** How long one login takes at most on a 512 MB function (scrypt + two round trips), for the throttle arithmetic. */
const LOGIN_SECONDS = 0.2;
/** The dev stage's params.corsAllowedOrigins in serverless.yml (comma separated). */
const CORS_ORIGINS = 'http://localhost:5173';

type Json = any;
let dir: string;
let template: Json;
let prodTemplate: Json;
let proxyTemplate: Json;
let state: Json;
let zips: Record<string, ZipEntry[]>;
let pki: TestPki;
/** serverless.yml's params, as written (the numbers the checks below recompute). */
let params: Record<string, Json>;
let unknownStage: { code: number; output: string };

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

const caFile = join(root, RDS_CA_FILE);
let savedCa: string | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cashbook-package-'));
  params = parseYaml(readFileSync(join(root, 'serverless.yml'), 'utf8')).params;
  // The deploy writes the region's RDS CA bundle here before packaging; a test CA stands in for
  // it (and for the RDS server's issuer below). A real bundle left by a deploy is put back after.
  pki = makeTestPki(join(dir, 'pki'), ['localhost']);
  if (existsSync(caFile)) renameSync(caFile, (savedCa = join(dir, 'saved-rds-ca.pem')));
  mkdirSync(join(root, 'certs'), { recursive: true });
  copyFileSync(pki.caFile, caFile);
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
  const sls = (args: string[]) =>
    promisify(execFile)(process.execPath, [join(root, 'node_modules/serverless/bin/serverless.js'), ...args], {
      cwd: root,
      env,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 280_000,
    });
  const packageStage = async (stage: string, out: string, extra: string[] = []) => {
    await sls(['package', '--stage', stage, '--region', 'eu-west-1', '--package', join(dir, out), ...extra]);
    return JSON.parse(readFileSync(join(dir, out, 'cloudformation-template-update-stack.json'), 'utf8'));
  };
  try {
    // One at a time: serverless-esbuild builds in the project's .esbuild/.
    template = await packageStage(STAGE, 'out');
    prodTemplate = await packageStage('prod', 'prod');
    proxyTemplate = await packageStage('prod', 'proxy', ['--param=useRdsProxy=true']);
    unknownStage = await sls(['package', '--stage', 'staging', '--region', 'eu-west-1', '--package', join(dir, 'staging')]).then(
      (r) => ({ code: 0, output: r.stdout + r.stderr }),
      (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, output: err.stdout + err.stderr }),
    );
  } finally {
    rmSync(caFile, { force: true });
    if (savedCa) renameSync(savedCa, caFile);
  }
  state = JSON.parse(readFileSync(join(dir, 'out/serverless-state.json'), 'utf8'));
  zips = Object.fromEntries(
    readdirSync(join(dir, 'out'))
      .filter((f) => f.endsWith('.zip'))
      .map((f) => [f.slice(0, -4), readZip(join(dir, 'out', f))]),
  );
}, 600_000);

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

  it('routes exactly the httpApi events of the route table, each to its own function', () => {
    const declared = Object.entries(state.service.functions as Record<string, Json>).flatMap(([name, fn]) =>
      (fn.events as Json[]).filter((e) => e.httpApi).map((e) => {
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

  it('covers the API contract in docs/api.md (paths with and without the trailing slash)', () => {
    const contract = documentedRoutes();
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

  it('configures IAM database auth over verified TLS (the shipped RDS CA added to Node’s roots) and the JWT secret by SSM parameter name', () => {
    for (const [id, fn] of resources('AWS::Lambda::Function')) {
      const env = fn.Properties.Environment.Variables;
      expect(env, id).toMatchObject({
        DB_AUTH: 'iam',
        DB_SSL: 'verify-full',
        // Empty: a DB_SSL_CA would replace Node's roots, and RDS Proxy's certificate chains to one of them.
        DB_SSL_CA: '',
        NODE_EXTRA_CA_CERTS: `/var/task/${RDS_CA_FILE}`,
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
      { action: ['rds-db:connect'], resource: ['arn:{AWS::Partition}:rds-db:{AWS::Region}:{AWS::AccountId}:dbuser:db-REPLACE-ME/cashbook_app'] },
      { action: ['ssm:GetParameter'], resource: [`arn:{AWS::Partition}:ssm:{AWS::Region}:{AWS::AccountId}:parameter/cashbook/${STAGE}/jwt-secret`] },
      // Receipts: objects under attachments/ of the stage's bucket; no listing, no bucket settings.
      { action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'], resource: ['{AttachmentsBucket.Arn}/attachments/*'] },
    ]);
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      for (const action of asList(s.Action)) expect(action).not.toContain('*');
      for (const resource of asList(s.Resource).map(render)) {
        // The one wildcard outside logs: the objects under the bucket's prefix.
        if (!asList(s.Action).every((a: string) => a.startsWith('logs:'))) expect(resource.replace(/^\{AttachmentsBucket\.Arn\}\/attachments\/\*$/, '')).not.toContain('*');
      }
    }
    // The only managed policy: ENI management for a function in a VPC (its EC2 actions take no resource ARN).
    expect(role.ManagedPolicyArns.map(render)).toEqual(['arn:{AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']);
    // The optional RDS Proxy's role may log in as the one database user on the instance, nothing else.
    const proxyRole = template.Resources.CashbookDbProxyRole;
    expect(proxyRole.Condition).toBe('UseRdsProxy');
    const [proxyGrant, ...more] = proxyRole.Properties.Policies[0].PolicyDocument.Statement;
    expect(more).toEqual([]);
    expect({ ...proxyGrant, Resource: render(proxyGrant.Resource) }).toEqual({
      Effect: 'Allow',
      Action: 'rds-db:connect',
      Resource: 'arn:{AWS::Partition}:rds-db:{AWS::Region}:{AWS::AccountId}:dbuser:db-REPLACE-ME/cashbook_app',
    });
  });

  it('keeps receipts in one private bucket per stage: no public access, encrypted, TLS only, CORS for uploads, lifecycle rules, versioning off', () => {
    const buckets = resources('AWS::S3::Bucket').filter(([key]) => key !== 'ServerlessDeploymentBucket');
    expect(buckets.map(([key]) => key)).toEqual(['AttachmentsBucket']);
    const [, bucket] = buckets[0]!;
    expect(bucket.DeletionPolicy).toBe('Retain');
    const p = bucket.Properties;
    expect(p.BucketName).toBeUndefined(); // generated per stack, so per stage
    expect(p.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(p.OwnershipControls.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    expect(p.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(p.VersioningConfiguration?.Status ?? 'off').not.toBe('Enabled');
    const [cors, ...moreCors] = p.CorsConfiguration.CorsRules;
    expect(moreCors).toEqual([]);
    expect(cors.AllowedOrigins).toEqual({ 'Fn::Split': [',', CORS_ORIGINS] });
    expect(cors.AllowedMethods.sort()).toEqual(['GET', 'HEAD', 'POST']);
    const lifecycle = p.LifecycleConfiguration.Rules;
    expect(lifecycle.every((r: Json) => r.Status === 'Enabled')).toBe(true);
    expect(lifecycle.find((r: Json) => r.AbortIncompleteMultipartUpload)?.AbortIncompleteMultipartUpload).toEqual({ DaysAfterInitiation: 1 });
    expect(lifecycle.find((r: Json) => r.NoncurrentVersionExpiration)?.NoncurrentVersionExpiration).toEqual({ NoncurrentDays: 1 });
    // The bucket policy refuses plain HTTP for everyone, on the bucket and its objects.
    const policies = resources('AWS::S3::BucketPolicy').filter(([, r]) => r.Properties.Bucket.Ref === 'AttachmentsBucket');
    expect(policies).toHaveLength(1);
    const [, policy] = policies[0]!;
    const [deny, ...moreStatements] = policy.Properties.PolicyDocument.Statement;
    expect(moreStatements).toEqual([]);
    expect({ ...deny, Resource: deny.Resource.map(render) }).toEqual({
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: ['{AttachmentsBucket.Arn}', '{AttachmentsBucket.Arn}/*'],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    // Every function is told the bucket's name, and talks to AWS's endpoint.
    for (const [fnId, fn] of resources('AWS::Lambda::Function')) {
      expect(fn.Properties.Environment.Variables.ATTACHMENT_BUCKET, fnId).toEqual({ Ref: 'AttachmentsBucket' });
      expect(fn.Properties.Environment.Variables.ATTACHMENT_S3_ENDPOINT ?? '', fnId).toBe('');
    }
    // The sweep runs on a schedule in deleteAttachment's function.
    const rules = resources('AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0]!;
    expect(rule.Properties.ScheduleExpression).toBe('rate(15 minutes)');
    expect(rule.Properties.Targets[0].Arn['Fn::GetAtt'][0]).toBe('DeleteAttachmentLambdaFunction');
  });

  it('defines the optional RDS Proxy only when useRdsProxy is true', () => {
    expect(template.Conditions.UseRdsProxy).toEqual({ 'Fn::Equals': ['false', 'true'] });
    for (const id of ['CashbookDbProxy', 'CashbookDbProxyRole', 'CashbookDbProxyTargetGroup']) {
      expect(template.Resources[id].Condition, id).toBe('UseRdsProxy');
    }
  });

  it('contains no plaintext secret, even when the deployer’s shell holds some', () => {
    const text = JSON.stringify(template) + JSON.stringify(state.service.provider);
    expect(text).not.toContain(process.env.JWT_SECRET!);
    expect(text).not.toContain(new URL(inject('appUrl')).password);
    expect(text).not.toContain('shell-db-password-must-not-ship');
    expect(text).not.toMatch(/"(JWT_SECRET|DB_PASSWORD)":"[^"]/);
  });

  it('ships each function as its handler plus the shared lazy aws-sdk.mjs (aws-sdk-s3.mjs for the receipts), within the size budget', () => {
    const rows: string[] = [];
    expect(ERROR_CLASSES).toContain('NotFound');
    const withS3 = Object.keys(zips).filter((name) => sdkFileOf(name) === 'functions/aws-sdk-s3.mjs').sort();
    expect(withS3).toEqual(['completeAttachment', 'createAttachment', 'deleteAttachment', 'listAttachments']);
    for (const [name, entries] of Object.entries(zips)) {
      const handler = (state.service.functions[name].handler as string).replace(/\.handler$/, '.mjs');
      const sdkFile = sdkFileOf(name);
      expect(entries.map((e) => e.name).sort(), name).toEqual([sdkFile, handler, RDS_CA_FILE].sort());
      expect(entries.find((e) => e.name === RDS_CA_FILE)!.read().toString('utf8'), name).toBe(readFileSync(pki.caFile, 'utf8'));
      const code = entries.find((e) => e.name === handler)!.read().toString('utf8');
      const sdk = entries.find((e) => e.name === sdkFile)!.read().toString('utf8');
      // SigV4 and SSM's wire protocol live in the SDK file only, reached through import() alone.
      const SDK_CODE = /AWS4-HMAC-SHA256|aws4_request|AmazonSSM\./;
      expect(SDK_CODE.test(sdk), name).toBe(true);
      expect(SDK_CODE.test(code), `${name}: SDK code in the handler bundle`).toBe(false);
      expect(/from\s*["']\.\/aws-sdk(-s3)?\.mjs["']/.test(code), `${name}: static import of the SDK file`).toBe(false);
      // The S3 client and the presigners reach only the receipts' functions.
      expect(/createPresignedPost|HeadObjectCommand/.test(sdk), `${name}: S3 in ${sdkFile}`).toBe(withS3.includes(name));
      // An error's name is its class's (new.target.name): a clash renamed by esbuild would log `NotFound2`.
      for (const error of ERROR_CLASSES) expect(code, `${name}: class ${error} renamed`).not.toMatch(new RegExp(`class ${error}\\d+\\b`));
      const zipped = entries.reduce((n, e) => n + e.compressedSize, 0);
      expect(zipped, name).toBeLessThan(ZIP_BUDGET_OVERRIDES[name] ?? ZIP_BUDGET_BYTES);
      rows.push(`${name.padEnd(22)} ${(zipped / 1024).toFixed(0).padStart(4)} KB zipped (handler ${(
        entries.find((e) => e.name === handler)!.compressedSize / 1024
      ).toFixed(0)} KB + ${sdkFile.slice('functions/'.length)} ${(entries.find((e) => e.name === sdkFile)!.compressedSize / 1024).toFixed(0)} KB + CA bundle)`);
    }
    console.log(`Bundle sizes (stage ${STAGE}):\n${rows.join('\n')}`);
    for (const name of Object.keys(ZIP_BUDGET_OVERRIDES)) expect(Object.keys(zips), name).toContain(name);
    expect(Object.keys(zips).sort()).toEqual(Object.keys(state.service.functions).sort());
  });

});

describe('prod and RDS Proxy mode, and an unknown stage (serverless package, offline)', () => {
  const functionNames = () => Object.keys(state.service.functions);
  const lambdas = (t: Json) =>
    Object.entries(t.Resources as Record<string, Json>).filter(([, r]) => r.Type === 'AWS::Lambda::Function');

  it('validates every resource of dev, prod and proxy mode against the CloudFormation resource specification', () => {
    for (const [name, t] of [['dev', template], ['prod', prodTemplate], ['prod + RDS Proxy', proxyTemplate]] as const) {
      expect(validateTemplate(t), name).toEqual([]);
    }
    // The validator does find mistakes.
    const broken = structuredClone(proxyTemplate);
    broken.Resources.CashbookDbProxy.Properties.Auth = [{ AuthScheme: 'IAM' }];
    broken.Resources.CashbookDbProxyTargetGroup.Properties.ConnectionPoolConfigurationInfo.MaxConnectionPercent = 90;
    broken.Resources.HttpApiStage.DependsOn.push('HttpApiRoutePostApiLogin');
    expect(validateTemplate(broken).sort()).toEqual([
      'CashbookDbProxy.Properties.Auth[0].AuthScheme: "IAM" is not one of SECRETS',
      'CashbookDbProxyTargetGroup.Properties.ConnectionPoolConfigurationInfo.MaxConnectionPercent: unknown property',
      'HttpApiStage.DependsOn: HttpApiRoutePostApiLogin does not exist',
    ]);
  });

  it('refuses to package a stage without its own params, instead of deploying local defaults', () => {
    expect(unknownStage.code).not.toBe(0);
    expect(unknownStage.output).toContain('Value not found at "param" source');
    expect(existsSync(join(dir, 'staging', 'cloudformation-template-update-stack.json'))).toBe(false);
    expect(params.default).toBeUndefined();
  });

  it('RDS Proxy: end-to-end IAM, a pool that fits the role’s connection limit, idle pooled sessions kept', () => {
    expect(proxyTemplate.Conditions.UseRdsProxy).toEqual({ 'Fn::Equals': ['true', 'true'] });
    const proxy = proxyTemplate.Resources.CashbookDbProxy.Properties;
    // The proxy logs in to the database with IAM tokens too: no secret, so `cashbook_app` keeps
    // rds_iam and no password, which is all RDS allows it.
    expect(proxy).toMatchObject({ EngineFamily: 'POSTGRESQL', RequireTLS: true, DefaultAuthScheme: 'IAM_AUTH' });
    expect(proxy.Auth).toBeUndefined();
    expect(JSON.stringify(proxyTemplate)).not.toContain('secretsmanager');
    // The instance the proxy fronts is the endpoint's first label.
    const target = proxyTemplate.Resources.CashbookDbProxyTargetGroup.Properties;
    expect(target.DBInstanceIdentifiers).toEqual([{ 'Fn::Select': [0, { 'Fn::Split': ['.', params.prod.dbInstanceHost] }] }]);
    // Pool: MaxConnectionsPercent of the server's max_connections, all as cashbook_app.
    const pool = target.ConnectionPoolConfigurationInfo;
    const limit = connectionLimit(params.prod);
    expect(pool.MaxConnectionsPercent).toBe(proxyPool(params.prod.dbMaxConnections, limit).maxConnectionsPercent);
    expect(Math.ceil((params.prod.dbMaxConnections * pool.MaxConnectionsPercent) / 100)).toBeLessThanOrEqual(limit);
    expect(pool.MaxIdleConnectionsPercent).toBeLessThanOrEqual(pool.MaxConnectionsPercent);
    // A client waits at the proxy less than the request's own budget.
    expect(pool.ConnectionBorrowTimeout * 1000).toBeLessThan(28_000 - 1_000);
    // The deploy sets the role up for the proxy: the server never ends the pool's idle sessions.
    expect(roleSettingsFor('proxy').idleSessionTimeoutMs).toBe(0);
    expect(roleSettingsFor('direct').idleSessionTimeoutMs).toBeGreaterThan(0);
    // The functions connect to the proxy, with rds-db:connect on the proxy's id.
    for (const [id, fn] of lambdas(proxyTemplate)) {
      expect(fn.Properties.Environment.Variables.DB_HOST['Fn::If'][1], id).toEqual({ 'Fn::GetAtt': ['CashbookDbProxy', 'Endpoint'] });
    }
    const statements = proxyTemplate.Resources.IamRoleLambdaExecution.Properties.Policies.flatMap((p: Json) => p.PolicyDocument.Statement);
    const connect = statements.find((s: Json) => s.Action === 'rds-db:connect' || s.Action?.[0] === 'rds-db:connect');
    expect(JSON.stringify(connect.Resource)).toContain('"Fn::GetAtt":["CashbookDbProxy","DBProxyArn"]');
  });

  it('RDS Proxy mode with serverless.yml’s placeholders does not pass the deploy’s placeholder check', () => {
    const left = findPlaceholders(proxyTemplate);
    expect(left).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Resources\.CashbookDbProxyTargetGroup\.Properties\.DBInstanceIdentifiers.*REPLACE-ME/),
        expect.stringMatching(/^Resources\.CashbookDbProxyRole\.Properties\.Policies.*dbuser:db-REPLACE-ME\/cashbook_app/),
      ]),
    );
    expect(findPlaceholders(prodTemplate).length).toBeGreaterThan(0);
  });

  it('fits prod’s reservations: connecting functions within the role’s limit, every function capped, the account quota checked', async () => {
    const reserved = params.prod.reservedConcurrency as Record<string, number>;
    const fns = functionNames();
    // Every function of prod gets its stage's reservation (scripts/lib/serverless-functions.ts), and nothing else.
    const applied = Object.fromEntries(
      lambdas(prodTemplate).map(([id, fn]) => [id, fn.Properties.ReservedConcurrentExecutions]),
    );
    expect(Object.keys(applied).sort()).toEqual(fns.map((f) => `${f[0]!.toUpperCase()}${f.slice(1)}LambdaFunction`).sort());
    for (const f of fns) expect(applied[`${f[0]!.toUpperCase()}${f.slice(1)}LambdaFunction`], f).toBe(reserved[f]);
    // Connecting functions within the role's CONNECTION LIMIT; no-database ones capped too.
    const sums = sumReservations(reserved);
    expect(sums.database).toBeLessThanOrEqual(connectionLimit(params.prod));
    for (const f of NO_DATABASE) expect(reserved[f], f).toBeGreaterThan(0);
    expect(checkStageParams('prod', params.prod, fns)).toEqual([]);
    expect(checkStageParams(STAGE, params[STAGE], fns)).toEqual([]);
    // Dev reserves nothing, so it deploys on a new account's reduced quota.
    for (const [id, fn] of lambdas(template)) expect(fn.Properties.ReservedConcurrentExecutions, id).toBeUndefined();
    // The account quota, as the deploy checks it: 1,000 fits; a new account's 10 is refused with
    // the quota to request (the stage's total plus Lambda's 100 unreserved).
    const account = (limit: number) => ({
      accountSettings: async () => ({ concurrentExecutions: limit, unreservedConcurrentExecutions: limit }),
      reservedConcurrency: async () => undefined,
    });
    const options = { stage: 'prod', functionNames: fns.map((f) => `cashbook-api-prod-${f}`), reserved };
    await expect(checkConcurrencyQuota(account(1000), options)).resolves.toMatchObject({ wanted: sums.total });
    await expect(checkConcurrencyQuota(account(10), options)).rejects.toThrow(`quota of at least ${sums.total + 100}`);
    // docs/deploy.md quotes these numbers.
    const doc = readFileSync(join(root, 'docs/deploy.md'), 'utf8');
    expect(doc).toContain(`reservations sum to ${sums.database}`);
    expect(doc).toContain(`prod reserves ${sums.total} in all`);
    expect(doc).toContain(`quota of at least ${sums.total + 100}`);
  });

  it('throttles the stage and, tighter, the password-hashing routes, below what their reservations absorb', () => {
    for (const [name, t, p] of [['dev', template, params[STAGE]], ['prod', prodTemplate, params.prod]] as const) {
      const stage = t.Resources.HttpApiStage;
      const throttle = p.throttle;
      expect(stage.Properties.DefaultRouteSettings, name).toMatchObject({ ThrottlingBurstLimit: throttle.burst, ThrottlingRateLimit: throttle.rate });
      expect(stage.Properties.RouteSettings, name).toEqual({
        'POST /api/token': { ThrottlingBurstLimit: throttle.loginBurst, ThrottlingRateLimit: throttle.loginRate },
        'POST /api/register': { ThrottlingBurstLimit: throttle.registerBurst, ThrottlingRateLimit: throttle.registerRate },
      });
      // The stage refers to these routes by key, so it is created after them.
      const routes = Object.entries<Json>(t.Resources).filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Route');
      for (const key of Object.keys(stage.Properties.RouteSettings)) {
        const [id] = routes.find(([, r]) => r.Properties.RouteKey === key)!;
        expect(stage.DependsOn, key).toContain(id);
      }
      expect(throttle.loginRate).toBeLessThanOrEqual(throttle.rate);
    }
    // On prod, logins at the route's full rate keep fewer invocations running than obtainToken
    // reserves, so a flood meets API Gateway's 429 before Lambda refuses anyone.
    const prod = params.prod;
    expect(prod.throttle.loginRate * LOGIN_SECONDS).toBeLessThanOrEqual(prod.reservedConcurrency.obtainToken);
    expect(prod.throttle.loginBurst).toBeLessThanOrEqual(prod.reservedConcurrency.obtainToken);
    expect(prod.throttle.registerRate * LOGIN_SECONDS).toBeLessThanOrEqual(prod.reservedConcurrency.register);
    expect(prod.throttle.registerBurst).toBeLessThanOrEqual(prod.reservedConcurrency.register);
  });

  it('writes JSON access logs with the request id and integration latency, and publishes no function versions', () => {
    for (const [name, t] of [['dev', template], ['prod', prodTemplate]] as const) {
      const settings = t.Resources.HttpApiStage.Properties.AccessLogSettings;
      expect(settings.DestinationArn, name).toEqual({ 'Fn::GetAtt': ['HttpApiLogGroup', 'Arn'] });
      const format = JSON.parse(settings.Format);
      expect(format, name).toMatchObject({
        requestId: '$context.requestId',
        status: '$context.status',
        integrationLatency: '$context.integrationLatency',
        responseLatency: '$context.responseLatency',
      });
      expect(Object.values(t.Resources as Record<string, Json>).filter((r) => r.Type === 'AWS::Lambda::Version'), name).toEqual([]);
    }
    expect(template.Resources.HttpApiLogGroup.Properties.RetentionInDays).toBe(params[STAGE].logRetentionInDays);
    expect(prodTemplate.Resources.HttpApiLogGroup.Properties.RetentionInDays).toBe(params.prod.logRetentionInDays);
  });
});

describe('deploying from another account or partition (deploy/deployer-policy.json)', () => {
  const policy = JSON.parse(readFileSync(join(root, 'deploy/deployer-policy.json'), 'utf8'));
  const ACCOUNT = '123456789012';
  /** Both templates serverless deploys: the create stack (bucket only), then the update stack. */
  const rendered = () =>
    [
      ['dev', 'out', params.dev, template],
      ['prod', 'prod', params.prod, prodTemplate],
      ['prod + RDS Proxy', 'proxy', params.prod, proxyTemplate],
    ].map(([name, out, stageParams, update]) => ({
      name: name as string,
      stage: (name as string).split(' ')[0]!,
      stageParams,
      templates: [JSON.parse(readFileSync(join(dir, out as string, 'cloudformation-template-create-stack.json'), 'utf8')), update],
    }));
  /** Actions IAM cannot scope to a resource: the only ones the policy grants on "*". */
  const NO_RESOURCE_LEVEL = [
    'cloudformation:ValidateTemplate',
    'lambda:GetAccountSettings',
    'logs:DescribeLogGroups',
    'logs:CreateLogDelivery',
    'logs:GetLogDelivery',
    'logs:UpdateLogDelivery',
    'logs:DeleteLogDelivery',
    'logs:ListLogDeliveries',
    'logs:PutResourcePolicy',
    'logs:DescribeResourcePolicies',
    'ec2:DescribeVpcs',
    'ec2:DescribeSubnets',
    'ec2:DescribeSecurityGroups',
    'ec2:DescribeNetworkInterfaces',
  ];

  it('writes no partition into an ARN: every rendered template builds them with AWS::Partition (China, GovCloud)', () => {
    for (const { name, templates } of rendered()) {
      for (const t of templates) expect(JSON.stringify(t), name).not.toContain('arn:aws:');
    }
  });

  it('lets the deployer create, update and delete every resource of dev, prod and prod + RDS Proxy, and make the framework’s own calls', () => {
    for (const { name, stage, stageParams, templates } of rendered()) {
      const { needs, unknownTypes } = deployerNeeds(templates, { partition: 'aws', region: 'eu-west-1', account: ACCOUNT, service: 'cashbook-api', stage }, stageParams);
      // A new resource type needs its permissions in tests/support/deployer-permissions.ts and the policy.
      expect(unknownTypes, name).toEqual([]);
      const denied = needs.filter((n) => !allows(policy, n, ACCOUNT)).map((n: Need) => `${n.action} on ${n.resource} (${n.for})`);
      expect([...new Set(denied)], name).toEqual([]);
    }
  });

  it('grants nothing the deploy does not need: every action used, "*" only where IAM has no resource, roles passed only to Lambda and RDS', () => {
    const needed = new Set(
      rendered().flatMap(({ stage, stageParams, templates }) =>
        deployerNeeds(templates, { partition: 'aws', region: 'eu-west-1', account: ACCOUNT, service: 'cashbook-api', stage }, stageParams).needs.map((n) => n.action.toLowerCase()),
      ),
    );
    const statements = policy.Statement as Json[];
    const granted = statements.flatMap((s) => [s.Action].flat() as string[]);
    expect(granted.filter((a) => a.includes('*'))).toEqual([]);
    expect(granted.filter((a) => !needed.has(a.toLowerCase()))).toEqual([]);
    const onAnything = statements.filter((s) => [s.Resource].flat().includes('*')).flatMap((s) => [s.Action].flat());
    expect(onAnything.filter((a) => !NO_RESOURCE_LEVEL.includes(a))).toEqual([]);
    // The evaluator does refuse: another service's function, a role for EC2, an admin policy.
    const other = { resource: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:payroll-prod-run`, action: 'lambda:UpdateFunctionCode', for: 'test' };
    const role = `arn:aws:iam::${ACCOUNT}:role/cashbook-api-prod-eu-west-1-lambdaRole`;
    expect(allows(policy, other, ACCOUNT)).toBeUndefined();
    expect(allows(policy, { ...other, resource: other.resource.replace('payroll', 'cashbook-api') }, ACCOUNT)).toBe('Functions');
    expect(allows(policy, { action: 'iam:PassRole', resource: role, context: { 'iam:PassedToService': 'ec2.amazonaws.com' }, for: 'test' }, ACCOUNT)).toBeUndefined();
    expect(allows(policy, { action: 'iam:AttachRolePolicy', resource: role, context: { 'iam:PolicyARN': 'arn:aws:iam::aws:policy/AdministratorAccess' }, for: 'test' }, ACCOUNT)).toBeUndefined();
    expect(allows(policy, { action: 'lambda:GetFunction', resource: other.resource.replace('payroll', 'cashbook-api').replace(ACCOUNT, '210987654321'), for: 'test' }, ACCOUNT)).toBeUndefined();
  });
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
      // `file?x`: the same bundle as a new module instance (a new container).
      const [name, query] = file.split('?');
      const { handler } = await import(`${pathToFileURL(join(extracted, fn, 'functions', name!)).href}${query ? `?${query}` : ''}`);
      return await handler(event, lambdaContext(timeoutMs));
    } finally {
      process.env = saved;
    }
  }

  /** A PostgreSQL front: accepts TLS with pki's localhost certificate, asks for a cleartext password, records it, hangs up. */
  function fakeRdsFront(passwords: string[]) {
    return listen(
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
  }

  const iamEnv = (port: number) => ({
    DATABASE_URL: '',
    DB_HOST: 'localhost',
    DB_PORT: String(port),
    DB_NAME: 'cashbook',
    DB_USER: 'cashbook_app',
    DB_AUTH: 'iam',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIAFAKEBUNDLETEST01',
    AWS_SECRET_ACCESS_KEY: 'fakeSecretKeyForBundleTestsOnly0123456789',
    AWS_SESSION_TOKEN: '',
    AWS_LAMBDA_FUNCTION_NAME: 'cashbook-api-dev-getHealth',
  });

  it('getHealth signs an IAM token with the bundled signer and sends it as the password over TLS', async () => {
    const passwords: string[] = [];
    const port = await fakeRdsFront(passwords);
    const response = await coldStart('getHealth', 'get-health.mjs', { ...iamEnv(port), DB_SSL: 'verify-full', DB_SSL_CA: pki.caFile }, apiEvent({ method: 'GET', path: '/api/health/' }));
    expect(response.statusCode).toBe(503);
    // Usually one attempt; on a slow machine the first (SDK still loading) may hit the connect
    // timeout and be retried. Every password sent is a token, and 28P01 ends the retries.
    expect(passwords.length).toBeGreaterThanOrEqual(1);
    for (const password of passwords) {
      expect(password).toMatch(/^localhost:\d+\/\?Action=connect&DBUser=cashbook_app&X-Amz-Algorithm=AWS4-HMAC-SHA256/);
      expect(password).toContain('AKIAFAKEBUNDLETEST01');
    }
  }, 20_000);

  /** Runs the extracted getHealth bundle in a new Node process, as Lambda starts one, with `env` only. */
  async function inNewProcess(env: Record<string, string>): Promise<{ statusCode: number }> {
    const script = `
      const { handler } = await import(${JSON.stringify(pathToFileURL(join(extracted, 'getHealth', 'functions', 'get-health.mjs')).href)});
      const deadline = Date.now() + 10000;
      const res = await handler(JSON.parse(process.argv[1]), { awsRequestId: 'smoke', functionName: 'getHealth', getRemainingTimeInMillis: () => deadline - Date.now() });
      process.stdout.write(JSON.stringify(res));`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script, JSON.stringify(apiEvent({ method: 'GET', path: '/api/health/' }))],
      { env: { PATH: process.env.PATH, LOG_LEVEL: 'silent', JWT_SECRET: 'a-test-secret-of-at-least-32-characters', ...env }, timeout: 30_000 },
    );
    return JSON.parse(stdout);
  }

  it('verifies the database’s certificate with the RDS CA bundle shipped in the zip (NODE_EXTRA_CA_CERTS, as deployed)', async () => {
    const fn = template.Resources.GetHealthLambdaFunction.Properties.Environment.Variables;
    const shipped = join(extracted, 'getHealth', fn.NODE_EXTRA_CA_CERTS.replace(/^\/var\/task\//, ''));
    const passwords: string[] = [];
    const port = await fakeRdsFront(passwords);
    const env = { ...iamEnv(port), DB_SSL: fn.DB_SSL, DB_SSL_CA: fn.DB_SSL_CA };
    // With the bundle added to Node's roots, verify-full accepts the server and the token is sent.
    expect(await inNewProcess({ ...env, NODE_EXTRA_CA_CERTS: shipped })).toMatchObject({ statusCode: 503 });
    expect(passwords).toHaveLength(1);
    expect(passwords[0]).toContain('DBUser=cashbook_app');
    // Without it, the same server is refused before any password leaves.
    expect(await inNewProcess(env)).toMatchObject({ statusCode: 503 });
    expect(passwords).toHaveLength(1);
  }, 60_000);

  /** A verify request to the packaged verifyToken, its JWT secret in SSM at 127.0.0.1:`port`. */
  const verifyWithSsmAt = (port: number, bundle: string) =>
    coldStart('verifyToken', bundle, {
      DATABASE_URL: 'postgres://u@localhost/cashbook',
      JWT_SECRET: '',
      JWT_SECRET_SSM_PARAMETER: '/cashbook/dev/jwt-secret',
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${port}`,
      AWS_ACCESS_KEY_ID: 'AKIAFAKEBUNDLETEST01',
      AWS_SECRET_ACCESS_KEY: 'fakeSecretKeyForBundleTestsOnly0123456789',
      AWS_SESSION_TOKEN: '',
    }, apiEvent({ method: 'POST', path: '/api/token/verify/', body: { token: 'not.a.token' } }));

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
    const response = await verifyWithSsmAt(port, 'verify-token.mjs');
    // 401, not 500: the secret was fetched, then the token judged.
    expect(response.statusCode).toBe(401);
    expect(targets).toEqual(['AmazonSSM.GetParameter']);
  });

  it('verifyToken answers 503 with Retry-After, naming SSM, when SSM cannot be reached', async () => {
    // A port nothing listens on: what a function without a route to SSM sees (sooner).
    const closed = createServer();
    const port = await new Promise<number>((r) => closed.listen(0, '127.0.0.1', () => r((closed.address() as AddressInfo).port)));
    await new Promise((r) => closed.close(r));
    // A fresh module instance: a new container, with no secret fetched yet.
    const response = await verifyWithSsmAt(port, 'verify-token.mjs?ssm-down');
    expect(response.statusCode).toBe(503);
    expect(response.headers['Retry-After']).toBeDefined();
    expect(JSON.parse(response.body)).toMatchObject({ code: 'dependency_unavailable', dependency: 'ssm' });
  }, 20_000);
});

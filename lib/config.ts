import { z } from 'zod';
import { isCurrencyCode } from './currency.js';

// The only reader of process.env. Every variable is documented in docs/configuration.md
// (tests/unit/docs.test.ts checks it).

const int = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** An ISO 4217 code the runtime knows (Intl's list), upper-cased. */
const currency = z
  .string()
  .transform((v) => v.toUpperCase())
  .refine(isCurrencyCode, 'must be an ISO 4217 currency code such as INR, USD or EUR');

/**
 * The most entries one statement renders (docs/api.md, "Statements"): measured to render within a
 * 512 MB function's memory and a few seconds; the ceiling keeps the file within Lambda's 6 MB
 * response and the memory.
 */
export const DEFAULT_STATEMENT_MAX_ROWS = 20_000;
const MAX_STATEMENT_MAX_ROWS = 50_000;

/** Django 3.2's PBKDF2 iterations (the old backend's); Django 5.2 uses 1,000,000, 6.0 1,200,000. */
export const DEFAULT_PBKDF2_ITERATIONS = 260_000;
const MAX_PBKDF2_ITERATIONS = 1_500_000;

const schema = z
  .object({
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' }).optional(),
    DB_HOST: z.string().min(1).optional(),
    DB_PORT: int(1, 65535).default(5432),
    DB_NAME: z.string().min(1).optional(),
    DB_USER: z.string().min(1).optional(),
    DB_PASSWORD: z.string().optional(),
    DB_AUTH: z.enum(['password', 'iam'], { error: 'must be "password" or "iam"' }).default('password'),
    DB_SSL: z
      .enum(['disable', 'require', 'verify-full'], { error: 'must be disable, require or verify-full' })
      .default('disable'),
    DB_SSL_CA: z.string().min(1).optional(),
    DB_CONNECT_TIMEOUT_MS: int(100, 60_000).default(3_000),
    DB_RETRY_BASE_MS: int(1, 10_000).default(10),
    DB_RETRY_MAX_MS: int(1, 60_000).default(4_000),
    DB_DEADLINE_MARGIN_MS: int(0, 60_000).default(800),
    DB_POOLED: bool.default(false),
    AWS_REGION: z.string().min(1).optional(),
    AWS_LAMBDA_FUNCTION_NAME: z.string().min(1).default('cashbook-local'),
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    // Deployed stages: the name of an SSM SecureString holding the secret, read at cold start.
    JWT_SECRET_SSM_PARAMETER: z
      .string()
      .regex(/^\/[A-Za-z0-9_.\-/]+$/, 'must be a parameter name starting with "/"')
      .optional(),
    JWT_ACCESS_TTL_SECONDS: int(10, 86_400).default(300),
    JWT_REFRESH_TTL_SECONDS: int(60, 90 * 86_400).default(86_400),
    JWT_ROTATE_REFRESH_TOKENS: bool.default(false),
    MAX_BODY_BYTES: int(1_024, 6 * 1024 * 1024).default(64 * 1024),
    TIMEOUT_EARLY_MS: int(0, 30_000).default(1_000),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
    DEFAULT_CURRENCY: currency.default('INR'),
    METRICS_NAMESPACE: z.string().min(1).max(255).default('CashbookApi'),
    METRICS_ENABLED: bool.optional(),
    CORS_ORIGINS: z.string().optional(),
    LOGIN_MAX_FAILURES: int(1, 1_000).default(5),
    LOGIN_WINDOW_SECONDS: int(1, 86_400).default(900),
    LOGIN_SOURCE_MAX_FAILURES: int(1, 100_000).default(50),
    LOGIN_USER_MAX_FAILURES: int(1, 100_000).default(20),
    LOGIN_USER_WINDOW_SECONDS: int(1, 86_400).default(3_600),
    LOGIN_DELAY_SECONDS: int(1, 3_600).default(2),
    LOGIN_MAX_DELAY_SECONDS: int(1, 86_400).default(300),
    REGISTER_MAX_PER_SOURCE: int(1, 100_000).default(20),
    REGISTER_WINDOW_SECONDS: int(1, 86_400).default(3_600),
    REGISTRATION_ENABLED: bool.default(true),
    PASSWORD_PBKDF2_ITERATIONS: int(0, MAX_PBKDF2_ITERATIONS).default(DEFAULT_PBKDF2_ITERATIONS),
    STATEMENT_MAX_ROWS: int(1, MAX_STATEMENT_MAX_ROWS).default(DEFAULT_STATEMENT_MAX_ROWS),
    ATTACHMENT_BUCKET: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)')
      .optional(),
    // A local S3-compatible server (npm start, the tests); unset on AWS.
    ATTACHMENT_S3_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http(s):// URL' }).optional(),
    // A presigned POST takes at most 5 GB.
    ATTACHMENT_MAX_BYTES: int(1, 5 * 1024 ** 3).default(10 * 1024 * 1024),
    ATTACHMENT_QUOTA_BYTES: int(1, Number.MAX_SAFE_INTEGER).default(1024 ** 3),
  })
  .superRefine((env, ctx) => {
    if (!env.DATABASE_URL && !(env.DB_HOST && env.DB_NAME && env.DB_USER)) {
      ctx.addIssue({
        code: 'custom',
        path: ['DATABASE_URL'],
        message: 'set DATABASE_URL, or DB_HOST, DB_NAME and DB_USER',
      });
    }
    if (!env.JWT_SECRET === !env.JWT_SECRET_SSM_PARAMETER) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_SECRET'],
        message: env.JWT_SECRET ? 'and JWT_SECRET_SSM_PARAMETER are both set; set one' : 'is required (or JWT_SECRET_SSM_PARAMETER)',
      });
    }
    if (env.JWT_SECRET_SSM_PARAMETER && !env.AWS_REGION) {
      ctx.addIssue({ code: 'custom', path: ['AWS_REGION'], message: 'is required with JWT_SECRET_SSM_PARAMETER' });
    }
    if (env.DB_AUTH === 'iam') {
      if (!env.AWS_REGION) ctx.addIssue({ code: 'custom', path: ['AWS_REGION'], message: 'is required when DB_AUTH=iam' });
      if (!env.DB_HOST) ctx.addIssue({ code: 'custom', path: ['DB_HOST'], message: 'is required when DB_AUTH=iam' });
      // An IAM token is a password valid for 15 minutes: sent without verifying the server's
      // certificate, anyone in the middle could replay it. Only verify-full is accepted.
      const sslMode = env.DATABASE_URL ? new URL(env.DATABASE_URL).searchParams.get('sslmode') : null;
      const effective = sslMode === 'require' || sslMode === 'verify-full' ? sslMode : env.DB_SSL;
      if (effective !== 'verify-full') {
        ctx.addIssue({ code: 'custom', path: ['DB_SSL'], message: 'must be "verify-full" when DB_AUTH=iam' });
      }
    }
  });

type Env = z.infer<typeof schema>;

export interface LoginLimits {
  maxFailures: number;
  windowSeconds: number;
  sourceMaxFailures: number;
  userMaxFailures: number;
  userWindowSeconds: number;
  /** Past the source or user limit, unknown sources wait this long, doubling per attempt let through... */
  delaySeconds: number;
  /** ...up to this. */
  maxDelaySeconds: number;
}

export interface DatabaseConfig {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string | undefined;
  auth: 'password' | 'iam';
  region: string | undefined;
  ssl: 'disable' | 'require' | 'verify-full';
  sslCaFile: string | undefined;
  connectTimeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  deadlineMarginMs: number;
  applicationName: string;
  /** A pooler (RDS Proxy, PgBouncer) keeps backends between requests: kept statements pay off (lib/kept.ts). */
  pooled: boolean;
}

export interface Config {
  db: DatabaseConfig;
  jwt: {
    /** The key itself (local stages), or undefined when it lives in SSM (`secretParameter`). */
    secret: string | undefined;
    secretParameter: { name: string; region: string } | undefined;
    accessTtlSeconds: number;
    refreshTtlSeconds: number;
    rotateRefreshTokens: boolean;
  };
  http: { maxBodyBytes: number; timeoutEarlyMs: number };
  logLevel: Env['LOG_LEVEL'];
  /** The currency of books created without one (registration, imports, POST /api/books/). */
  defaultCurrency: string;
  functionName: string;
  /** CloudWatch EMF metrics; off by default when LOG_LEVEL=silent (tests). */
  metrics: { enabled: boolean; namespace: string };
  /** Allowed CORS origins (exact, `*`, or `https://*.example.com`); empty: no CORS headers. */
  corsOrigins: string[];
  /** Login limits per (source, username), per source and per username (lib/auth/login-limit.ts). */
  login: LoginLimits;
  /** Registrations per source. */
  register: { max: number; windowSeconds: number };
  /** False: POST /api/register/ answers 403 (a cutover's window: no new id may clash with an imported one). */
  registrationEnabled: boolean;
  /** The cap on imported Django hashes' iterations, and the PBKDF2 work every login check does. */
  passwords: { pbkdf2Iterations: number };
  /** A statement (PDF, XLSX) of a longer period is refused with 413. */
  statements: { maxRows: number };
  /** Receipts (lib/storage.ts): the stage's bucket, and the limits the API and S3 enforce. */
  attachments: AttachmentsConfig;
}

export interface AttachmentsConfig {
  /** Undefined: the attachment routes answer 503 (lib/storage.ts). */
  bucket: string | undefined;
  /** A local S3-compatible server (path-style URLs); undefined on AWS. */
  endpoint: string | undefined;
  region: string;
  maxBytes: number;
  quotaBytes: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * The `application_name` a function connects with: its own name (`cashbook-api-prod-listTransactions`),
 * so `pg_stat_activity` shows which function holds a connection. Behind a pooler, the stage's
 * (`cashbook-api-prod`): a pooler hands a client a server connection last used by any function,
 * and PgBouncer sends `SET application_name` first whenever the two differ (a round trip and a
 * statement for a third of the bench's mixed requests); there the server connection is the
 * pooler's anyway.
 */
function applicationName(functionName: string, pooled: boolean): string {
  const stage = pooled ? functionName.replace(/-[^-]+$/, '') : functionName;
  return (stage || functionName).slice(0, 63);
}

function databaseFromEnv(env: Env): DatabaseConfig {
  const url = env.DATABASE_URL ? new URL(env.DATABASE_URL) : undefined;
  const sslMode = url?.searchParams.get('sslmode');
  return {
    host: env.DB_HOST ?? url?.hostname ?? 'localhost',
    port: env.DB_HOST ? env.DB_PORT : Number(url?.port || env.DB_PORT),
    database: env.DB_NAME ?? decodeURIComponent(url?.pathname.slice(1) ?? ''),
    user: env.DB_USER ?? decodeURIComponent(url?.username ?? ''),
    password: env.DB_PASSWORD ?? (url?.password ? decodeURIComponent(url.password) : undefined),
    auth: env.DB_AUTH,
    region: env.AWS_REGION,
    ssl: sslMode === 'require' || sslMode === 'verify-full' ? sslMode : env.DB_SSL,
    sslCaFile: env.DB_SSL_CA,
    connectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS,
    retryBaseMs: env.DB_RETRY_BASE_MS,
    retryMaxMs: env.DB_RETRY_MAX_MS,
    deadlineMarginMs: env.DB_DEADLINE_MARGIN_MS,
    applicationName: applicationName(env.AWS_LAMBDA_FUNCTION_NAME, env.DB_POOLED),
    pooled: env.DB_POOLED,
  };
}

/** Parses an environment; throws ConfigError naming every bad variable (never its value). */
export function loadConfig(source: Record<string, string | undefined>): Config {
  // An empty variable counts as unset, as in most shells' `VAR= command`.
  const result = schema.safeParse(Object.fromEntries(Object.entries(source).filter(([, v]) => v !== '')));
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${String(i.path[0] ?? 'environment')} ${i.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const env = result.data;
  return {
    db: databaseFromEnv(env),
    jwt: {
      secret: env.JWT_SECRET,
      secretParameter:
        env.JWT_SECRET_SSM_PARAMETER && env.AWS_REGION
          ? { name: env.JWT_SECRET_SSM_PARAMETER, region: env.AWS_REGION }
          : undefined,
      accessTtlSeconds: env.JWT_ACCESS_TTL_SECONDS,
      refreshTtlSeconds: env.JWT_REFRESH_TTL_SECONDS,
      rotateRefreshTokens: env.JWT_ROTATE_REFRESH_TOKENS,
    },
    http: { maxBodyBytes: env.MAX_BODY_BYTES, timeoutEarlyMs: env.TIMEOUT_EARLY_MS },
    logLevel: env.LOG_LEVEL,
    defaultCurrency: env.DEFAULT_CURRENCY,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    metrics: { enabled: env.METRICS_ENABLED ?? env.LOG_LEVEL !== 'silent', namespace: env.METRICS_NAMESPACE },
    corsOrigins: (env.CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean),
    login: {
      maxFailures: env.LOGIN_MAX_FAILURES,
      windowSeconds: env.LOGIN_WINDOW_SECONDS,
      sourceMaxFailures: env.LOGIN_SOURCE_MAX_FAILURES,
      userMaxFailures: env.LOGIN_USER_MAX_FAILURES,
      userWindowSeconds: env.LOGIN_USER_WINDOW_SECONDS,
      delaySeconds: env.LOGIN_DELAY_SECONDS,
      maxDelaySeconds: env.LOGIN_MAX_DELAY_SECONDS,
    },
    register: { max: env.REGISTER_MAX_PER_SOURCE, windowSeconds: env.REGISTER_WINDOW_SECONDS },
    registrationEnabled: env.REGISTRATION_ENABLED,
    passwords: { pbkdf2Iterations: env.PASSWORD_PBKDF2_ITERATIONS },
    statements: { maxRows: env.STATEMENT_MAX_ROWS },
    attachments: {
      bucket: env.ATTACHMENT_BUCKET,
      endpoint: env.ATTACHMENT_S3_ENDPOINT,
      // Lambda always sets AWS_REGION; a local S3 server ignores the region it is signed for.
      region: env.AWS_REGION ?? 'us-east-1',
      maxBytes: env.ATTACHMENT_MAX_BYTES,
      quotaBytes: env.ATTACHMENT_QUOTA_BYTES,
    },
  };
}

let cached: Config | undefined;

/** The process configuration, validated once (at cold start, when the first handler module loads). */
export function getConfig(): Config {
  cached ??= loadConfig(process.env);
  return cached;
}

/**
 * A database named by URL on a script's command line (the import's old and new databases),
 * with the connection defaults of the app: withConnection's retry rules apply to it too.
 */
export function databaseFromUrl(url: string, applicationName: string): DatabaseConfig {
  const env = schema.safeParse({ DATABASE_URL: url, JWT_SECRET: 'unused-by-scripts-'.padEnd(32, '-') });
  if (!env.success) throw new ConfigError('must be a postgres:// URL');
  return { ...databaseFromEnv(env.data), applicationName: applicationName.slice(0, 63) };
}

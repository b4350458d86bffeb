import { inject } from 'vitest';

// Runs in each test worker before the test file loads: lib/config.ts reads these at cold start.
process.env.DATABASE_URL = inject('appUrl');
// Through PgBouncer (TEST_POOLER=pgbouncer) as deployed behind RDS Proxy: kept statements on.
if (inject('pooler')) process.env.DB_POOLED = 'true';
process.env.JWT_SECRET = 'test-secret-that-is-at-least-32-characters-long';
process.env.LOG_LEVEL = 'silent';
process.env.AWS_LAMBDA_FUNCTION_NAME = 'cashbook-test';
process.env.CORS_ORIGINS = 'https://app.example.com,https://*.cashbook.test';
process.env.REGISTER_MAX_PER_SOURCE = "10000";
// Receipts: the run's local S3 server (s3rver; its fixed credentials, read by the AWS SDK itself).
process.env.ATTACHMENT_BUCKET = inject('s3').bucket;
process.env.ATTACHMENT_S3_ENDPOINT = inject('s3').endpoint;
process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';

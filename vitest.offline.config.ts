import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// The checks `npm run deploy` runs before it packages (scripts/deploy.ts): the ones that need no
// service — no PostgreSQL, PgBouncer or Django — so a deploy runs from a laptop or a bastion.
// The unit tests and the template test (serverless package offline, the CloudFormation
// specification, the packaged bundles run against local fakes). The full suite (`npm test`) is
// CI's; the deploy names the commit whose CI run it relies on. No global setup: nothing starts a
// database or local S3, and the app URL the test setup file reads points nowhere (port 9, discard), so a test
// that did connect would fail at once instead of waiting.
const OFFLINE_TEST_FILES = ['tests/unit/**/*.test.ts', 'tests/integration/template.test.ts'];

export default defineConfig({
  test: {
    ...base.test,
    include: OFFLINE_TEST_FILES,
    globalSetup: [],
    // The S3 endpoint points nowhere too: the unit tests only sign requests (no network).
    provide: {
      appUrl: 'postgres://cashbook_offline:no-database-in-offline-checks@127.0.0.1:9/offline',
      s3: { endpoint: 'http://127.0.0.1:9', bucket: 'cashbook-offline' },
    },
  },
});

// esbuild plugin for serverless-esbuild (custom.esbuild.plugins): the AWS SDK goes into ONE
// separate file next to the handlers, `aws-sdk.mjs`, imported lazily.
//
// Why: lib/iam-token.ts (DB_AUTH=iam) and lib/auth/jwt-secret.ts (JWT_SECRET_SSM_PARAMETER)
// `await import()` the SDK, so a container that needs neither never reads it. Marked `external`,
// serverless-esbuild copied the SDK's whole node_modules tree into every zip (~2.4 MB each) and
// ran `npm install` while packaging; bundled inline, every handler file doubled in size (parsed at
// every cold start); esbuild's code splitting gave each function build its own differently
// hashed chunks, and every zip carried all of them. One shared file, built once, avoids all three.
const path = require('node:path');

//
// Receipts: the S3 client and presigners (lib/storage.ts) add ~110 KB zipped, more than the
// other functions' budget can carry. The attachment functions (S3_FUNCTIONS) load the SDK from
// a second file, `aws-sdk-s3.mjs`, which has everything aws-sdk.mjs has plus S3; each zip
// carries only the file its function loads (package.patterns, scripts/lib/serverless-functions.ts).
// Any other function importing the S3 SDK fails the build: S3 has one door, used by these four.
const SDK_MODULES = /^@aws-sdk\/(rds-signer|client-ssm|client-s3|s3-presigned-post|s3-request-presigner)$/;
const S3_MODULES = /^@aws-sdk\/(client-s3|s3-presigned-post|s3-request-presigner)$/;
const S3_FUNCTIONS = /functions[\\/](create|complete|list|delete)-attachments?\.ts$/;
const FILE = 'aws-sdk.mjs';
const S3_FILE = 'aws-sdk-s3.mjs';
const BASE_ENTRY = [
  "export { Signer } from '@aws-sdk/rds-signer';",
  "export { SSMClient, GetParameterCommand } from '@aws-sdk/client-ssm';",
];
const ENTRIES = {
  [FILE]: BASE_ENTRY.join('\n'),
  [S3_FILE]: [
    ...BASE_ENTRY,
    "export { S3Client, HeadObjectCommand, GetObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';",
    "export { createPresignedPost } from '@aws-sdk/s3-presigned-post';",
    "export { getSignedUrl } from '@aws-sdk/s3-request-presigner';",
  ].join('\n'),
};

// What the SDK would carry for other hosts than Lambda, left out of aws-sdk.mjs (~35 KB zipped
// of every function's zip): Lambda always hands the function its role's credentials in the
// environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), which the default
// chain would pick first anyway, so the rest of the chain (SSO, STS web identity, ini files,
// process, IMDS: ~120 KB with their nested STS/SSO clients) never runs there; and `bowser` parses
// browser user agents, reached only in browsers. Scripts and tests run the SDK from
// node_modules, with the full chain.
const lambdaOnly = {
  name: 'cashbook-aws-sdk-lambda-only',
  setup(build) {
    build.onResolve({ filter: /^@aws-sdk\/(credential-provider-node|credential-providers)$/ }, (args) => ({
      path: args.path,
      namespace: 'lambda-credentials',
    }));
    build.onLoad({ filter: /.*/, namespace: 'lambda-credentials' }, () => ({
      contents: [
        "import { fromEnv } from '@aws-sdk/credential-provider-env';",
        'export const defaultProvider = () => fromEnv();',
        'export const fromNodeProviderChain = () => fromEnv();',
      ].join('\n'),
      loader: 'js',
      resolveDir: path.dirname(require.resolve('@aws-sdk/credential-provider-env/package.json')),
    }));
    build.onResolve({ filter: /^bowser$/ }, () => ({ path: 'bowser', namespace: 'no-browser' }));
    build.onLoad({ filter: /.*/, namespace: 'no-browser' }, () => ({
      contents: "throw new Error('bowser (browser user agents) is left out of aws-sdk.mjs');",
      loader: 'js',
    }));
  },
};

const built = new Map();

function buildSdk(esbuild, options, file) {
  const outfile = path.join(options.outdir, file);
  if (!built.has(outfile)) {
    built.set(
      outfile,
      esbuild.build({
        stdin: { contents: ENTRIES[file], resolveDir: process.cwd(), loader: 'js' },
        outfile,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: options.target,
        // Fully minified whatever the handlers use: nobody debugs the SDK from a stack trace.
        minify: true,
        banner: options.banner,
        legalComments: 'none',
        logLevel: 'warning',
        plugins: [lambdaOnly],
      }),
    );
  }
  return built.get(outfile);
}

module.exports = [
  {
    name: 'cashbook-aws-sdk-file',
    setup(build) {
      const entries = Object.values(build.initialOptions.entryPoints ?? {}).map((e) => (typeof e === 'string' ? e : e.in));
      const withS3 = entries.length > 0 && entries.every((e) => S3_FUNCTIONS.test(e));
      const file = withS3 ? S3_FILE : FILE;
      build.onResolve({ filter: SDK_MODULES }, (args) => {
        if (args.kind !== 'dynamic-import') {
          return { errors: [{ text: `${args.path} must be loaded lazily with await import() (see scripts/esbuild-aws-sdk.cjs)` }] };
        }
        if (!withS3 && S3_MODULES.test(args.path)) {
          return { errors: [{ text: `${args.path}: only the attachment functions load the S3 SDK (S3_FUNCTIONS in scripts/esbuild-aws-sdk.cjs)` }] };
        }
        return { path: `./${file}`, external: true };
      });
      build.onEnd(async (result) => {
        if (result.errors.length || !build.initialOptions.outdir) return;
        await buildSdk(build.esbuild, build.initialOptions, file);
      });
    },
  },
];
// For scripts that bundle functions themselves (scripts/bench.ts): which may load the S3 SDK.
module.exports.S3_FUNCTIONS = S3_FUNCTIONS;

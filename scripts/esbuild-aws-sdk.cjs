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

const SDK_MODULES = /^@aws-sdk\/(rds-signer|client-ssm)$/;
const FILE = 'aws-sdk.mjs';
const ENTRY = [
  "export { Signer } from '@aws-sdk/rds-signer';",
  "export { SSMClient, GetParameterCommand } from '@aws-sdk/client-ssm';",
].join('\n');

const built = new Map();

function buildSdk(esbuild, options) {
  const outfile = path.join(options.outdir, FILE);
  if (!built.has(outfile)) {
    built.set(
      outfile,
      esbuild.build({
        stdin: { contents: ENTRY, resolveDir: process.cwd(), loader: 'js' },
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
      }),
    );
  }
  return built.get(outfile);
}

module.exports = [
  {
    name: 'cashbook-aws-sdk-file',
    setup(build) {
      build.onResolve({ filter: SDK_MODULES }, (args) => {
        if (args.kind !== 'dynamic-import') {
          return { errors: [{ text: `${args.path} must be loaded lazily with await import() (see scripts/esbuild-aws-sdk.cjs)` }] };
        }
        return { path: `./${FILE}`, external: true };
      });
      build.onEnd(async (result) => {
        if (result.errors.length || !build.initialOptions.outdir) return;
        await buildSdk(build.esbuild, build.initialOptions);
      });
    },
  },
];

// esbuild plugins for serverless-esbuild (custom.esbuild.plugins): the shared lazy AWS SDK
// file (./esbuild-aws-sdk.cjs), zod without its other locales (./esbuild-zod.cjs) and `?raw`
// text imports.
// `import text from 'pkg/file.css?raw'` inlines a file as a string, as Vite (vitest) does, so
// the docs functions carry swagger-ui-dist's assets in their own bundles and no other function does.
const { readFile } = require('node:fs/promises');
const { dirname } = require('node:path');

const raw = {
  name: 'raw-text',
  setup(build) {
    build.onResolve({ filter: /\?raw$/ }, (args) => ({
      path: require.resolve(args.path.slice(0, -'?raw'.length), { paths: [args.resolveDir || dirname(args.importer)] }),
      namespace: 'raw-text',
    }));
    build.onLoad({ filter: /.*/, namespace: 'raw-text' }, async (args) => ({
      contents: await readFile(args.path, 'utf8'),
      loader: 'text',
    }));
  },
};

module.exports = [...require('./esbuild-aws-sdk.cjs'), ...require('./esbuild-zod.cjs'), raw];

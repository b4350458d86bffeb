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

// pg's binding to libpq (`pg.native`, needs the pg-native add-on, which is never installed):
// ~10 KB of every handler bundle that no code path reaches.
const noPgNative = {
  name: 'no-pg-native',
  setup(build) {
    build.onLoad({ filter: /[\\/]pg[\\/]lib[\\/]native[\\/]index\.js$/ }, () => ({
      contents: "throw new Error('pg.native is left out of the bundle (scripts/esbuild-plugins.cjs)');",
      loader: 'js',
    }));
  },
};

module.exports = [...require('./esbuild-aws-sdk.cjs'), ...require('./esbuild-zod.cjs'), noPgNative, raw];

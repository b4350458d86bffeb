// esbuild plugin for serverless-esbuild (custom.esbuild.plugins): zod without what the
// functions never use. zod/v4's classic entry re-exports every locale (`z.locales`, ~290 KB of
// each ~800 KB handler bundle) and `z.fromJSONSchema`; a namespace re-export cannot be
// tree-shaken, so every handler parsed them at every cold start. The API answers in English
// (zod's default locale, `en`, which zod itself installs), and nothing converts JSON Schema back
// into zod (the OpenAPI document goes the other way, with z.toJSONSchema, which stays).
// If code ever calls z.locales.<other>() or z.fromJSONSchema(), the bundle says so at run time.
const LOCALES = /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/;
const FROM_JSON_SCHEMA = /[\\/]zod[\\/]v4[\\/]classic[\\/]from-json-schema\.js$/;

module.exports = [
  {
    name: 'cashbook-zod-trim',
    setup(build) {
      build.onLoad({ filter: LOCALES }, () => ({ contents: "export { default as en } from './en.js';", loader: 'js' }));
      build.onLoad({ filter: FROM_JSON_SCHEMA }, () => ({
        contents: "export function fromJSONSchema() { throw new Error('z.fromJSONSchema is left out of the bundle (scripts/esbuild-zod.cjs)'); }",
        loader: 'js',
      }));
    },
  },
];

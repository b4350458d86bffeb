// serverless.yml's `functions:` (`${file(./scripts/serverless-functions.cjs)}`), generated from the
// route table in lib/routes/ by scripts/lib/serverless-functions.ts, with the stage's
// `reservedConcurrency` param. The Serverless Framework loads only JavaScript here; tsx's
// require loads the TypeScript (without registering a loader for the rest of the process).
const tsx = require('tsx/cjs/api');

module.exports = async ({ resolveVariable }) => {
  const { serverlessFunctions } = tsx.require('./lib/serverless-functions.ts', __filename);
  return serverlessFunctions(await resolveVariable('param:reservedConcurrency'));
};

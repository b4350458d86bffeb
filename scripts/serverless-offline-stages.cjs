// A local Serverless plugin: the offline stages (scripts/lib/offline-stages.json, which
// `npm run deploy` reads too) take their settings from the shell — TLS off, password auth, the
// JWT secret in plaintext in the function environment, unthrottled — so nothing may put them in
// AWS, whoever runs `serverless` by hand. `package` and `offline` keep working for them.
const OFFLINE_STAGES = require('./lib/offline-stages.json');

/** Commands that create or change a stage in AWS (`deploy list` only reads). */
const refused = (commands) =>
  (commands[0] === 'deploy' && commands[1] !== 'list') || commands[0] === 'rollback';

class RefuseOfflineStages {
  constructor(serverless, options) {
    const check = () => {
      const stage = options.stage ?? serverless.service.provider.stage;
      const commands = serverless.processedInput?.commands ?? [];
      if (OFFLINE_STAGES.includes(stage) && refused(commands)) {
        throw new serverless.classes.Error(
          `Stage "${stage}" is an offline stage (${OFFLINE_STAGES.join(', ')}: serverless-offline only; ` +
            `its settings come from the shell) and is never deployed. Deploy a stage with its own params, ` +
            `e.g. npm run deploy -- --stage dev.`,
          'OFFLINE_STAGE_NOT_DEPLOYABLE',
        );
      }
    };
    // `initialize` runs before any command's lifecycle, so nothing is packaged or signed first;
    // the lifecycle hooks cover a deploy spawned by another plugin.
    this.hooks = {
      initialize: check,
      'before:deploy:deploy': check,
      'before:deploy:function:initialize': check,
      'before:rollback:initialize': check,
    };
  }
}

module.exports = RefuseOfflineStages;

// Entry point the cdk8s CLI loads (plain Node, see `validations` in cdk8s.yaml): the TypeScript
// plugin, run from its bundle as `npm run synth` runs main.ts (scripts/bundle.js builds it first
// when it is missing or stale; npm's `prepare` builds it at install).
require('../../scripts/bundle.js');
module.exports = require('./cdk8s-plugin.ts');

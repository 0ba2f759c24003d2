// Entry point the cdk8s CLI loads (plain Node, see `validations` in cdk8s.yaml):
// registers tsx, then loads the TypeScript plugin.
require('tsx/cjs');
module.exports = require('./cdk8s-plugin.ts');

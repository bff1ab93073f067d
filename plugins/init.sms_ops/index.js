'use strict'
// Under ts-node (npm start, tests) load the TypeScript source; otherwise the build in dist/.
module.exports = process[Symbol.for('ts-node.register.instance')]
  ? require('./plugin.ts')
  : require('../../dist/plugins/init.sms_ops/plugin.js')

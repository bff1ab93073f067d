#!/usr/bin/env node
'use strict'
// With NODE_ENV=production and a build in dist/ (npm run build), run the compiled CLI;
// otherwise the TypeScript sources through ts-node, so a fresh clone works without a build.
const fs = require('node:fs')
const path = require('node:path')

const built = path.join(__dirname, '..', 'dist', 'bin', 'cli.js')
if (process.env.NODE_ENV === 'production' && fs.existsSync(built)) {
  require(built).main(process.argv.slice(2))
} else {
  // The project's own tsconfig, wherever the command is run from (ts-node would otherwise look
  // for one from the current folder and fail outside the project).
  require('ts-node').register({
    transpileOnly: true,
    project: path.join(__dirname, '..', 'tsconfig.json'),
  })
  require('./cli.ts').main(process.argv.slice(2))
}

#!/usr/bin/env node
'use strict'
// Runs a TypeScript script (benchmarks, tools) through ts-node: `node bin/run-ts.js file.ts`.
const path = require('node:path')

require('ts-node').register({ transpileOnly: true })
const [, , script, ...rest] = process.argv
process.argv = [process.argv[0], script, ...rest]
require(path.resolve(script))

#!/usr/bin/env node
// Runs every compiled *.test.js under dist/test (or the folders given) with node's test runner,
// one file at a time (integration tests start real processes and servers).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['dist/test'];
const files = [];
const walk = (d) => {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.test.js')) files.push(p);
  }
};
for (const r of roots) {
  if (!fs.existsSync(r)) {
    console.error(`run-tests: ${r} does not exist (did the build run?)`);
    process.exit(1);
  }
  if (fs.statSync(r).isDirectory()) walk(r);
  else files.push(r);
}
files.sort();
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=300000', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);

#!/usr/bin/env node
// `npm run demo [-- CONFIG.yaml] [attache flags]`: two demo upstreams on 127.0.0.1:8081 and :8082,
// and attache serving CONFIG (default examples/front-proxy.yaml: :10000, admin on 127.0.0.1:9901).
// Try: curl localhost:10000/
'use strict';
const http = require('node:http');
const path = require('node:path');
const { spawn } = require('node:child_process');

// The first argument is the config unless it is a flag (`npm run demo -- --concurrency 1` works too).
const args = process.argv.slice(2);
const config = args.length > 0 && !args[0].startsWith('-') ? args.shift() : path.join(__dirname, '../examples/front-proxy.yaml');
for (const [port, name] of [[8081, 'upstream-1'], [8082, 'upstream-2']]) {
  http
    .createServer((req, res) => res.end(`hello from ${name} (${req.method} ${req.url})\n`))
    .on('error', (err) => {
      console.error(`demo upstream ${name}: cannot listen on 127.0.0.1:${port}: ${err.code ?? err.message} (is another demo running?)`);
      process.exit(1);
    })
    .listen(port, '127.0.0.1', () => console.log(`demo upstream ${name} on 127.0.0.1:${port}`));
}
const proxy = spawn(process.execPath, [path.join(__dirname, '../bin/attache'), '-c', config, '--file-flush-interval-msec', '200', ...args], { stdio: 'inherit' });
console.log('\ntry: curl localhost:10000/   (run it a few times: round robin, per worker)\n     curl localhost:9901/stats | grep upstream_rq\n');
const stop = () => proxy.kill('SIGTERM');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
proxy.on('exit', (code) => process.exit(code ?? 0));

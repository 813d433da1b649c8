#!/usr/bin/env node
// `npm run demo`: two demo upstreams on 127.0.0.1:8081 and :8082, and attache serving
// examples/front-proxy.yaml on :10000 (admin on 127.0.0.1:9901). Try: curl localhost:10000/
'use strict';
const http = require('node:http');
const path = require('node:path');
const { spawn } = require('node:child_process');

const config = process.argv[2] ?? path.join(__dirname, '../examples/front-proxy.yaml');
for (const [port, name] of [[8081, 'upstream-1'], [8082, 'upstream-2']]) {
  http
    .createServer((req, res) => res.end(`hello from ${name} (${req.method} ${req.url})\n`))
    .listen(port, '127.0.0.1', () => console.log(`demo upstream ${name} on 127.0.0.1:${port}`));
}
const proxy = spawn(process.execPath, [path.join(__dirname, '../bin/attache'), '-c', config, '--file-flush-interval-msec', '200', ...process.argv.slice(3)], { stdio: 'inherit' });
console.log('\ntry: curl localhost:10000/   (run it twice: round robin)\n     curl localhost:9901/stats | grep upstream_rq\n');
const stop = () => proxy.kill('SIGTERM');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
proxy.on('exit', (code) => process.exit(code ?? 0));

/**
 * node-http-proxy peer for the side-by-side bench: `node http-proxy-server.js <upstreamPort>`
 * listens on 127.0.0.1:0 and prints `PORT <n>` on stdout. One process, one thread (plus Node's
 * own helpers), a keep-alive Agent to the upstream.
 */
import * as http from 'node:http';
import httpProxy from 'http-proxy';

const upstream = Number(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 2048 });
const proxy = httpProxy.createProxyServer({ target: `http://127.0.0.1:${upstream}`, agent, xfwd: false });
proxy.on('error', (_err, _req, res) => {
  const r = res as http.ServerResponse;
  if (!r.headersSent) r.writeHead(502);
  r.end();
});
const server = http.createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = 300_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT ${(server.address() as { port: number }).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));

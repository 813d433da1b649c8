/**
 * @fastify/http-proxy peer for the side-by-side bench: `node fastify-proxy-server.js <upstreamPort>`
 * listens on 127.0.0.1:0 and prints `PORT <n>` on stdout. Upstream requests go through the
 * plugin's default undici pool (keep-alive).
 */
import Fastify from 'fastify';
import proxy from '@fastify/http-proxy';

const upstream = Number(process.argv[2]);
const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024, keepAliveTimeout: 300_000 });
void app.register(proxy, {
  upstream: `http://127.0.0.1:${upstream}`,
  undici: { connections: 1024, pipelining: 1, keepAliveTimeout: 300_000 },
});
app.listen({ port: 0, host: '127.0.0.1' }).then(
  () => {
    const addr = app.server.address() as { port: number };
    process.stdout.write(`PORT ${addr.port}\n`);
  },
  (err: Error) => {
    process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  },
);
process.on('SIGTERM', () => process.exit(0));

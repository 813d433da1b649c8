/**
 * The floor of a Node.js data plane, for the side-by-side bench: `node net-floor-server.js
 * <upstreamPort>` listens on 127.0.0.1:0, prints `PORT <n>` on stdout, and forwards bytes blindly:
 * each accepted connection gets its own upstream connection, and whatever one side sends is
 * written to the other. No HTTP parsing, no routing, no header changes, no stats: it is not a
 * proxy anyone could deploy, it is what Node's `net` sockets cost per request on this machine
 * before any HTTP work, with attache's own read path (`onread` into one shared buffer, one copy
 * per read) on the upstream side. attache's CPU-µs per request minus this row is the cost of
 * being an HTTP proxy; this row divided by nginx's is the best ratio any proxy built on `net`
 * sockets could reach.
 */
import * as net from 'node:net';
import { socketReads } from '../../src/common/socket-reads';

const upstreamPort = Number(process.argv[2]);

const server = net.createServer({ noDelay: true }, (down) => {
  const early: Buffer[] = [];
  const up = net.connect({ host: '127.0.0.1', port: upstreamPort, noDelay: true, onread: socketReads((d) => down.write(d)) });
  up.on('connect', () => {
    for (const b of early) up.write(b);
    early.length = 0;
  });
  down.on('data', (d: Buffer) => {
    if (up.connecting) early.push(d);
    else up.write(d);
  });
  down.on('error', () => up.destroy());
  up.on('error', () => down.destroy());
  down.on('close', () => up.destroy());
  up.on('close', () => down.destroy());
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT ${(server.address() as net.AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));

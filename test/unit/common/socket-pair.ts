/** Real loopback sockets for the socket-write tests. */
import * as net from 'node:net';
import { once } from 'node:events';

/** A server on 127.0.0.1 (ephemeral port), listening. */
export async function loopbackServer(): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as net.AddressInfo).port };
}

/** A connected client socket and the server side's socket. */
export async function socketPair(): Promise<{ client: net.Socket; peer: net.Socket; close: () => void }> {
  const { server, port } = await loopbackServer();
  const accepted = once(server, 'connection');
  const client = net.connect(port, '127.0.0.1');
  await once(client, 'connect');
  const [peer] = (await accepted) as [net.Socket];
  return { client, peer, close: () => { client.destroy(); peer.destroy(); server.close(); } };
}

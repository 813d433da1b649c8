/**
 * Run-time detection of Node's own `listen({ reusePort: true })` (Node >= 22.12 honours it; Node 20
 * silently ignores the option, so a second bind gets EADDRINUSE). Detected by trying, not by version.
 */
import net from 'node:net';

/** How worker threads can each own a socket on one port (Envoy `enable_reuse_port`). */
export type ReusePortSupport = 'native-addon' | 'node-reuseport' | 'none';

function listen(server: net.Server, port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const onError = (): void => resolve(false);
    server.once('error', onError);
    // `reusePort` is missing from @types/node 20; `exclusive` keeps a cluster worker from sharing
    // the primary's handle (which would make the second bind succeed without SO_REUSEPORT).
    const opts = { port, host, exclusive: true, reusePort: true } as net.ListenOptions;
    server.listen(opts, () => {
      server.off('error', onError);
      resolve(true);
    });
  });
}

/**
 * Binds two servers with `reusePort: true` to one ephemeral port on `host`, then closes both.
 * @returns true when the second bind succeeds (Node honours SO_REUSEPORT). Never rejects.
 */
export async function detectNodeReusePort(host = '127.0.0.1'): Promise<boolean> {
  const a = net.createServer();
  const b = net.createServer();
  try {
    if (!(await listen(a, 0, host))) return false;
    const port = (a.address() as net.AddressInfo).port;
    return await listen(b, port, host);
  } catch {
    return false;
  } finally {
    if (a.listening) a.close();
    if (b.listening) b.close();
  }
}

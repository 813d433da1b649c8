/**
 * `attache xds-server --dir DIR` driving the seed EDS config: the two-terminal setup of the README.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BIN, startProxy, startUpstream, waitFor, writeConfig, type Proxy } from './harness';
import { get, seedEds } from './xds-helpers';

const claYaml = (ports: number[]) => `cluster_name: docker-project-service
endpoints:
- lb_endpoints:
${ports.map((p) => `  - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${p} } } }`).join('\n')}
`;

test('xds-server serves the endpoints in its directory and pushes a new version when a file changes', async () => {
  const [a, b] = await Promise.all([startUpstream('a'), startUpstream('b')]);
  const dir = mkdtempSync(path.join(tmpdir(), 'xds-cli-'));
  mkdirSync(path.join(dir, 'endpoints'));
  const file = path.join(dir, 'endpoints', 'svc.yaml');
  writeFileSync(file, claYaml([a.port]));
  const cp = spawn(process.execPath, [BIN, 'xds-server', '--dir', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  cp.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  cp.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let proxy: Proxy | undefined;
  try {
    const m = await waitFor(() => /xds-server listening on 127\.0\.0\.1:(\d+)/.exec(out), 10_000, 'xds-server');
    const port = Number(m![1]);
    proxy = await startProxy(['-c', writeConfig(seedEds(port)), '--concurrency', '1']);
    assert.equal((await get(proxy.port)).body, 'a');
    writeFileSync(file, claYaml([b.port]));
    await waitFor(async () => (await get(proxy!.port)).body === 'b', 5000, 'b after the file changed');
    assert.match(out, /ClusterLoadAssignment version \d+ \(1 resource\(s\)\)\n[\s\S]*ClusterLoadAssignment version \d+ \(1 resource\(s\)\)/);
  } finally {
    await proxy?.stop();
    cp.kill('SIGTERM');
    await a.close();
    await b.close();
  }
});

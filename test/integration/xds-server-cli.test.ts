/**
 * `attache xds-server --dir DIR` driving the seed EDS config: the two-terminal setup of the README;
 * a file with a syntax error keeps its last good resources; bad resources are served as written
 * (NACKed) or refused when protobuf cannot carry them; saves by rename are noticed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BIN, startProxy, startUpstream, waitFor, writeConfig, type Proxy, type Upstream } from './harness';
import { get, seedEds } from './xds-helpers';

const claYaml = (ports: number[]) => `cluster_name: docker-project-service
endpoints:
- lb_endpoints:
${ports.map((p) => `  - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${p} } } }`).join('\n')}
`;

interface Cli {
  cp: ChildProcess;
  port: number;
  /** stdout and stderr so far. */
  out(): string;
}

async function startCli(dir: string): Promise<Cli> {
  const cp = spawn(process.execPath, [BIN, 'xds-server', '--dir', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  cp.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  cp.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  try {
    const m = await waitFor(() => /xds-server listening on 127\.0\.0\.1:(\d+)/.exec(out), 10_000, 'xds-server');
    return { cp, port: Number(m![1]), out: () => out };
  } catch (e) {
    cp.kill('SIGTERM');
    throw new Error(`${(e as Error).message}; output: ${out}`);
  }
}

/** A directory with endpoints/svc.yaml pointing at `port`, the CLI over it and the seed EDS proxy. */
async function setup(port: number): Promise<{ dir: string; file: string; cli: Cli; proxy: Proxy; stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'xds-cli-'));
  mkdirSync(path.join(dir, 'endpoints'));
  const file = path.join(dir, 'endpoints', 'svc.yaml');
  writeFileSync(file, claYaml([port]));
  const cli = await startCli(dir);
  let proxy: Proxy;
  try {
    proxy = await startProxy(['-c', writeConfig(seedEds(cli.port)), '--concurrency', '1']);
  } catch (e) {
    cli.cp.kill('SIGTERM');
    throw e;
  }
  return { dir, file, cli, proxy, stop: async () => { await proxy.stop(); cli.cp.kill('SIGTERM'); } };
}

const versions = (out: string, type: string) => [...out.matchAll(new RegExp(`${type} version (\\d+) \\((\\d+) resource\\(s\\)\\)`, 'g'))].map((m) => ({ v: m[1], n: Number(m[2]) }));

test('xds-server serves the endpoints in its directory and pushes a new version when a file changes', async () => {
  const [a, b] = await Promise.all([startUpstream('a'), startUpstream('b')]);
  const s = await setup(a.port);
  try {
    assert.equal((await get(s.proxy.port)).body, 'a');
    writeFileSync(s.file, claYaml([b.port]));
    await waitFor(async () => (await get(s.proxy.port)).body === 'b', 5000, 'b after the file changed');
    assert.match(s.cli.out(), /ClusterLoadAssignment version \d+ \(1 resource\(s\)\)\n[\s\S]*ClusterLoadAssignment version \d+ \(1 resource\(s\)\)/);
  } finally {
    await s.stop();
    await a.close();
    await b.close();
  }
});

test('a YAML syntax error is reported with file:line:column and the file keeps serving its last good resources', async () => {
  const [a, b] = await Promise.all([startUpstream('a'), startUpstream('b')]);
  const s = await setup(a.port);
  try {
    assert.equal((await get(s.proxy.port)).body, 'a');
    const before = versions(s.cli.out(), 'ClusterLoadAssignment').length;
    writeFileSync(s.file, claYaml([b.port]).replace('  - endpoint', '\t- endpoint'));
    const err = await waitFor(() => /xds-server: error: (.*svc\.yaml):(\d+):(\d+): (.*)/.exec(s.cli.out()), 5000, 'the syntax error');
    assert.equal(err![1], s.file);
    assert.equal(err![2], '4');
    assert.match(err![4], /^Tabs are not allowed as indentation \(still serving the 1 resource\(s\) it last had until it parses\)$/);
    // Nothing pushed: the proxy keeps the endpoint of the last good file.
    assert.equal(versions(s.cli.out(), 'ClusterLoadAssignment').length, before);
    assert.doesNotMatch(s.cli.out(), /ClusterLoadAssignment version \d+ \(0 /);
    for (let i = 0; i < 3; i++) assert.equal((await get(s.proxy.port)).body, 'a');
    writeFileSync(s.file, claYaml([b.port]));
    await waitFor(async () => (await get(s.proxy.port)).body === 'b', 5000, 'b once the file parses again');
    assert.deepEqual(versions(s.cli.out(), 'ClusterLoadAssignment').map((x) => x.n), [1, 1]);
  } finally {
    await s.stop();
    await a.close();
    await b.close();
  }
});

test('an invalid resource is served as written and NACKed; an unknown enum value is refused and the last good version stays', async () => {
  const a = await startUpstream('a');
  const s = await setup(a.port);
  const cluster = path.join(s.dir, 'clusters', 'c.yaml');
  try {
    assert.equal((await get(s.proxy.port)).body, 'a');
    writeFileSync(s.file, claYaml([70000]));
    await waitFor(() => /NACK from .* for type\.googleapis\.com\/envoy\.config\.endpoint\.v3\.ClusterLoadAssignment/.test(s.cli.out()), 5000, 'the NACK');
    assert.match(s.cli.out(), /xds-server: warning: .*svc\.yaml\[0\]: .*port_value: 70000 must be at most 65535 \(served as written\): clients will NACK it/);
    assert.equal((await get(s.proxy.port)).body, 'a');

    mkdirSync(path.join(s.dir, 'clusters'));
    writeFileSync(cluster, 'name: c1\nconnect_timeout: 1s\ntype: STATIC\nlb_policy: ROUND_ROBIN\n');
    await waitFor(() => versions(s.cli.out(), 'Cluster').some((x) => x.n === 1), 5000, 'the cluster');
    const before = versions(s.cli.out(), 'Cluster').length;
    writeFileSync(cluster, 'name: c1\nconnect_timeout: 1s\ntype: STATIC\nlb_policy: ROUND_ROBN\n');
    const err = await waitFor(() => /xds-server: error: .*c\.yaml\[0\]: (.*)/.exec(s.cli.out()), 5000, 'the refused cluster');
    assert.match(err![1], /lb_policy: unknown value "ROUND_ROBN"; did you mean ROUND_ROBIN\?.*NOT served: .*lb_policy: "ROUND_ROBN" is not a value of envoy\.config\.cluster\.v3\.Cluster\.LbPolicy.*still serving its last good version/);
    assert.equal(versions(s.cli.out(), 'Cluster').length, before);
  } finally {
    await s.stop();
    await a.close();
  }
});

test('writes after a save by rename are noticed: each write pushes a new version', async () => {
  const ups: Upstream[] = await Promise.all(['u0', 'u1', 'u2', 'u3', 'u4'].map((n) => startUpstream(n)));
  const s = await setup(ups[0].port);
  try {
    assert.equal((await get(s.proxy.port)).body, 'u0');
    const steps: Array<[string, () => void]> = [
      ['rename', () => { writeFileSync(`${s.file}.tmp`, claYaml([ups[1].port])); renameSync(`${s.file}.tmp`, s.file); }],
      ['write', () => writeFileSync(s.file, claYaml([ups[2].port]))],
      ['write', () => writeFileSync(s.file, claYaml([ups[3].port]))],
      ['rename', () => { writeFileSync(`${s.file}.tmp`, claYaml([ups[4].port])); renameSync(`${s.file}.tmp`, s.file); }],
      ['write', () => writeFileSync(s.file, claYaml([ups[0].port]))],
      ['write', () => writeFileSync(s.file, claYaml([ups[1].port]))],
    ];
    const expect = ['u1', 'u2', 'u3', 'u4', 'u0', 'u1'];
    for (let i = 0; i < steps.length; i++) {
      const n = versions(s.cli.out(), 'ClusterLoadAssignment').length;
      steps[i][1]();
      await waitFor(() => versions(s.cli.out(), 'ClusterLoadAssignment').length === n + 1, 5000, `a new version after step ${i} (${steps[i][0]})`);
      await waitFor(async () => (await get(s.proxy.port)).body === expect[i], 5000, `${expect[i]} after step ${i} (${steps[i][0]})`);
    }
    const vs = versions(s.cli.out(), 'ClusterLoadAssignment');
    assert.equal(vs.length, 7);
    assert.equal(new Set(vs.map((x) => x.v)).size, 7);
  } finally {
    await s.stop();
    for (const u of ups) await u.close();
  }
});

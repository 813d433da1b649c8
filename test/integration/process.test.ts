/**
 * The process as a user runs it: several workers sharing the load, a worker crash while the
 * others keep serving, SIGTERM draining in-flight requests, admin stats summed across workers,
 * and the access log.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import * as net from 'node:net';
import { adsBootstrap, freePort } from './xds-helpers';
import { httpGet, rawRequest, runAttache, seedStaticFixed, startProxy, startUpstream, v3Config, waitFor, writeConfig, type Upstream } from './harness';

const cleanup: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function upstreams(): Promise<[Upstream, Upstream]> {
  const a = await startUpstream('A');
  const b = await startUpstream('B');
  cleanup.push(() => a.close(), () => b.close());
  return [a, b];
}

/** `conns` keep-alive connections each sending `perConn` requests; returns bodies and errors. */
async function load(port: number, conns: number, perConn: number): Promise<{ bodies: Map<string, number>; errors: number; statuses: Map<number, number> }> {
  const bodies = new Map<string, number>();
  const statuses = new Map<number, number>();
  let errors = 0;
  await Promise.all(
    Array.from({ length: conns }, async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = 0; i < perConn; i++) {
        try {
          const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
            http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
              let b = '';
              res.on('data', (d) => (b += d));
              res.on('end', () => resolve({ status: res.statusCode!, body: b }));
            }).on('error', reject);
          });
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          bodies.set(r.body, (bodies.get(r.body) ?? 0) + 1);
        } catch {
          errors++;
        }
      }
      agent.destroy();
    }),
  );
  return { bodies, errors, statuses };
}

test('--concurrency 2: 64 keep-alive connections, zero errors, both upstreams get an even share; stats are exact', async () => {
  const [a, b] = await upstreams();
  const proxy = await startProxy(['-c', writeConfig(seedStaticFixed([a.port, b.port])), '--concurrency', '2']);
  cleanup.push(() => proxy.stop());
  const r = await load(proxy.port, 64, 25);
  assert.equal(r.errors, 0);
  assert.equal(r.statuses.get(200), 1600);
  const na = r.bodies.get('A') ?? 0;
  const nb = r.bodies.get('B') ?? 0;
  assert.equal(na + nb, 1600);
  assert.ok(Math.abs(na - nb) <= 160, `uneven share: A=${na} B=${nb}`);
  assert.equal(a.seen.length, na);

  // Admin /stats sums counters over both workers, with Envoy's names.
  const stats = await httpGet(proxy.adminPort, '/stats');
  const value = (name: string) => Number(new RegExp(`^${name.replace(/\./g, '\\.')}: (\\d+)$`, 'm').exec(stats.body)?.[1]);
  assert.equal(value('http.ingress_http.downstream_rq_total'), 1600);
  assert.equal(value('http.ingress_http.downstream_rq_2xx'), 1600);
  assert.equal(value('cluster.docker-project-service.upstream_rq_200'), 1600);
  assert.equal(value('cluster.docker-project-service.upstream_rq_total'), 1600);
  assert.equal(value('server.concurrency'), 2);
  const ready = await httpGet(proxy.adminPort, '/ready');
  assert.equal(ready.status, 200);
  assert.equal(ready.body.trim(), 'LIVE');
  const clusters = await httpGet(proxy.adminPort, '/clusters');
  assert.match(clusters.body, new RegExp(`docker-project-service::127\\.0\\.0\\.1:${a.port}::`));
  // Per-host counters summed over both workers: every request counted once, all successes.
  const hostCounter = (name: string) =>
    [...clusters.body.matchAll(new RegExp(`^docker-project-service::127\\.0\\.0\\.1:\\d+::${name}::(\\d+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
  assert.equal(hostCounter('rq_total'), 1600);
  assert.equal(hostCounter('rq_success'), 1600);
  assert.equal(hostCounter('rq_error'), 0);
  assert.ok(hostCounter('cx_total') >= 2);
  const info = JSON.parse((await httpGet(proxy.adminPort, '/server_info')).body);
  assert.equal(info.state, 'LIVE');
  assert.equal(info.command_line_options.concurrency, 2);
  const dump = JSON.parse((await httpGet(proxy.adminPort, '/config_dump')).body);
  assert.equal(dump.configs[0]['@type'], 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump');
});

test('a crashed worker is replaced and logged; the other keeps serving', async () => {
  const [a, b] = await upstreams();
  const proxy = await startProxy(['-c', writeConfig(seedStaticFixed([a.port, b.port])), '--concurrency', '2'], { ATTACHE_DEBUG_ADMIN: '1' });
  cleanup.push(() => proxy.stop());
  const crash = await httpGet(proxy.adminPort, '/debug/crash_worker?id=0', {}, 'POST');
  assert.equal(crash.status, 200);
  await waitFor(() => proxy.output().includes('worker_0 crashed'), 5000, 'crash log');
  // Serving continues on new connections while the replacement starts and after.
  let ok = 0;
  for (let i = 0; i < 60; i++) {
    const r = await httpGet(proxy.port, '/');
    if (r.status === 200) ok++;
  }
  assert.equal(ok, 60);
  const info = await waitFor(async () => {
    const s = await httpGet(proxy.adminPort, '/stats?filter=server.concurrency');
    return /server\.concurrency: 2/.test(s.body) ? s : null;
  });
  assert.ok(info);
  assert.match(proxy.output(), /starting a replacement/);
});

test('SIGTERM drains: in-flight requests complete, then exit 0', async () => {
  const slow = await startUpstream('slow', (_req, res) => setTimeout(() => res.end('done'), 800));
  cleanup.push(() => slow.close());
  const proxy = await startProxy(['-c', writeConfig(v3Config({ clusters: { s: [slow.port] } })), '--concurrency', '2', '--drain-time-s', '10']);
  const inflight = Array.from({ length: 10 }, () => httpGet(proxy.port, '/'));
  await waitFor(() => slow.seen.length + 0 >= 0 && true);
  await new Promise((r) => setTimeout(r, 200));
  const code = proxy.stop('SIGTERM');
  const results = await Promise.all(inflight);
  for (const r of results) {
    assert.equal(r.status, 200);
    assert.equal(r.body, 'done');
  }
  assert.equal(await code, 0);
  assert.match(proxy.output(), /caught SIGTERM: draining/);
  // The listener is closed.
  await assert.rejects(httpGet(proxy.port, '/'), /ECONNREFUSED/);
});

test('SIGTERM: an idle keep-alive connection is closed, and a request sent after our FIN never reaches the upstream', async () => {
  const up = await startUpstream('U');
  cleanup.push(() => up.close());
  const proxy = await startProxy(['-c', writeConfig(v3Config({ clusters: { u: [up.port] } })), '--concurrency', '1', '--drain-time-s', '3']);
  const sock = net.connect({ port: proxy.port, host: '127.0.0.1', allowHalfOpen: true });
  await new Promise((r) => sock.once('connect', r));
  let got = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
  const ended = new Promise((r) => sock.once('end', r));
  await new Promise((r) => setTimeout(r, 100)); // the proxy has accepted it
  const code = proxy.stop('SIGTERM');
  await ended; // the proxy's FIN
  sock.write('POST /after-fin HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody');
  await new Promise((r) => setTimeout(r, 300));
  sock.destroy();
  assert.equal(await code, 0);
  assert.equal(got.length, 0);
  assert.deepEqual(up.seen.map((r) => r.url), [], 'the request after the FIN was dispatched upstream');
});

test('a response that starts before the request body has arrived says connection: close', async () => {
  const up = await startUpstream('U');
  cleanup.push(() => up.close());
  const routes = `
- match: { prefix: "/direct" }
  direct_response: { status: 200, body: { inline_string: "early" } }`;
  const proxy = await startProxy(['-c', writeConfig(v3Config({ clusters: { u: [up.port] }, routes })), '--concurrency', '1']);
  cleanup.push(() => proxy.stop());
  const sock = net.connect(proxy.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  let got = '';
  sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
  const closed = new Promise((r) => sock.once('close', r));
  sock.write('POST /direct HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n'); // body never sent
  await closed;
  assert.match(got, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(got, /\r\nconnection: close\r\n/);
  assert.ok(got.endsWith('\r\n\r\nearly'));
});

test('access_log writes Envoy\'s default format', async () => {
  const [a] = await upstreams();
  const logPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'attache-al-')), 'access.log');
  const yaml = v3Config({
    clusters: { a: [a.port] },
    hcmExtra: `access_log:\n- name: envoy.access_loggers.file\n  typed_config:\n    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog\n    path: ${logPath}`,
  });
  const proxy = await startProxy(['-c', writeConfig(yaml), '--concurrency', '1', '--file-flush-interval-msec', '100']);
  cleanup.push(() => proxy.stop());
  await httpGet(proxy.port, '/logged?x=1', { 'user-agent': 'ua-test', 'x-request-id': 'rid-1' });
  const line = await waitFor(() => (fs.existsSync(logPath) ? fs.readFileSync(logPath, 'utf8') : ''), 5000, 'access log line');
  assert.match(line, /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] "GET \/logged\?x=1 HTTP\/1\.1" 200 - 0 1 \d+ \d+ "-" "ua-test" "rid-1" "127\.0\.0\.1:\d+" "127\.0\.0\.1:\d+"\n$/);
  // A request line that does not parse has no method or path: "- -", as Envoy logs it.
  assert.equal((await rawRequest(proxy.port, 'G@T / HTTP/1.1\r\n\r\n')).responses[0].status, 400);
  const second = await waitFor(() => fs.readFileSync(logPath, 'utf8').split('\n')[1], 5000, 'second access log line');
  assert.match(second, /^\[[^\]]+\] "- - HTTP\/1\.1" 400 DPE /);
});

test('without SO_REUSEPORT (no addon, Node 20) attache runs one worker and says so loudly', async () => {
  const [a, b] = await upstreams();
  const proxy = await startProxy(['-c', writeConfig(seedStaticFixed([a.port, b.port])), '--concurrency', '2'], { ATTACHE_NATIVE: '0' });
  cleanup.push(() => proxy.stop());
  assert.match(proxy.output(), /SO_REUSEPORT is unavailable/);
  assert.match(proxy.output(), /serving with 1 worker\(s\)/);
  assert.equal((await httpGet(proxy.port, '/')).status, 200);
});

test('a listener that cannot bind fails startup with the address and errno, exit 1', async () => {
  const busy = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => busy.once('listening', r));
  const port = (busy.address() as net.AddressInfo).port;
  cleanup.push(async () => busy.close());
  const y = seedStaticFixed([1, 2], { listenerPort: port });
  const r = await runAttache(['-c', writeConfig(y), '--concurrency', '2']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`listener_0 \\(127\\.0\\.0\\.1:${port}\\): bind 127\\.0\\.0\\.1:${port}: EADDRINUSE`));
});

test("Istio pilot-agent's readiness and drain probes find their stats with usedonly", async () => {
  const [a, b] = await upstreams();
  const proxy = await startProxy(['-c', writeConfig(seedStaticFixed([a.port, b.port])), '--concurrency', '2']);
  cleanup.push(() => proxy.stop());
  const ready = await httpGet(proxy.adminPort, '/stats?usedonly&filter=^(server.state|listener_manager.workers_started)');
  assert.match(ready.body, /^listener_manager\.workers_started: 1$/m);
  assert.match(ready.body, /^server\.state: 0$/m);
  const drain = await httpGet(proxy.adminPort, '/stats?usedonly&filter=downstream_cx_active$');
  assert.match(drain.body, /^http\.ingress_http\.downstream_cx_active: 0$/m);
});

test('%RESPONSE_CODE_DETAILS% says how each response was made', async () => {
  const [a] = await upstreams();
  const logPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'attache-al-')), 'details.log');
  const routes = '- match: { prefix: "/up" }\n  route: { cluster: a }\n- match: { prefix: "/direct" }\n  direct_response: { status: 200, body: { inline_string: "d" } }';
  const yaml = v3Config({
    clusters: { a: [a.port] },
    routes,
    hcmExtra: `access_log:\n- name: envoy.access_loggers.file\n  typed_config:\n    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog\n    path: ${logPath}\n    log_format: { text_format_source: { inline_string: "%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS%\\n" } }`,
  });
  const proxy = await startProxy(['-c', writeConfig(yaml), '--concurrency', '1', '--file-flush-interval-msec', '100']);
  cleanup.push(() => proxy.stop());
  for (const p of ['/up', '/direct', '/none']) await httpGet(proxy.port, p);
  const text = await waitFor(() => {
    const t = fs.existsSync(logPath) ? fs.readFileSync(logPath, 'utf8') : '';
    return t.split('\n').length > 3 ? t : '';
  }, 5000, 'three access log lines');
  assert.deepEqual(text.trim().split('\n'), ['/up 200 via_upstream -', '/direct 200 direct_response -', '/none 404 route_not_found -']);
});

test("Istio pilot-agent's envoy command line starts attache; SIGHUP is eaten (still serving), SIGTERM exits 0", async () => {
  const [a] = await upstreams();
  const cfg = writeConfig(v3Config({ clusters: { a: [a.port] } }));
  const proxy = await startProxy([
    '-c', cfg, '--drain-time-s', '45', '--drain-strategy', 'immediate', '--local-address-ip-version', 'v4',
    '--file-flush-interval-msec', '1000', '--disable-hot-restart', '--allow-unknown-static-fields', '-l', 'info',
    '--component-log-level', 'misc:error', '--skip-deprecated-logs', '--log-stacktrace-single-entry', '--concurrency', '2',
  ]);
  cleanup.push(() => proxy.stop());
  assert.equal((await httpGet(proxy.port, '/')).status, 200);
  proxy.proc.kill('SIGHUP');
  await waitFor(() => /caught and eating SIGHUP/.test(proxy.output()));
  assert.equal(proxy.proc.exitCode, null);
  assert.equal((await httpGet(proxy.port, '/')).status, 200);
  assert.equal(await proxy.stop('SIGTERM'), 0);
});

test('SIGTERM while startup waits for an unreachable control plane exits 0 at once', async () => {
  const deadPort = await freePort(); // nothing listens there
  const yaml = adsBootstrap(deadPort);
  const { spawn } = await import('node:child_process');
  const proc = spawn(process.execPath, [path.join(__dirname, '../../../bin/attache'), '-c', writeConfig(yaml), '--concurrency', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<[number | null, string | null]>((r) => proc.once('exit', (code, sig) => r([code, sig])));
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(proc.exitCode, null, `still starting:\n${out}`);
  const t0 = Date.now();
  proc.kill('SIGTERM');
  const [code, sig] = await exited;
  assert.deepEqual([code, sig], [0, null], out);
  assert.ok(Date.now() - t0 < 3000);
});

test('-l debug prints each request as Envoy does: [C][S] request headers, the cluster match, the upstream connection, the response headers', async () => {
  const [a] = await upstreams();
  const proxy = await startProxy(['-c', writeConfig(v3Config({ clusters: { a: [a.port] } })), '--concurrency', '1', '-l', 'debug']);
  cleanup.push(() => proxy.stop());
  assert.equal((await httpGet(proxy.port, '/dbg?x=1', { 'x-trace-me': 'yes' })).status, 200);
  const out = await waitFor(() => (/encoding headers via codec/.test(proxy.output()) ? proxy.output() : null), 5000, 'debug lines');
  const m = /\[C(\d+)\]\[S(\d+)\] request headers complete \(end_stream=true\):\n':authority', '127\.0\.0\.1:\d+'\n':path', '\/dbg\?x=1'\n':method', 'GET'\n(?:'[^\n]*\n)*?'x-trace-me', 'yes'/.exec(out);
  assert.ok(m, out);
  const prefix = `[C${m[1]}][S${m[2]}]`;
  assert.ok(out.includes(`${prefix} cluster 'a' match for URL '/dbg?x=1'; upstream host 127.0.0.1:${a.port}`), out);
  assert.match(out, new RegExp(`\\[C\\d+\\] connecting to 127\\.0\\.0\\.1:${a.port}`));
  assert.ok(out.includes(`${prefix} encoding headers via codec (end_stream=false):\n':status', '200'`), out);
});

test('stdout access log and application log redirected to one file (`> log 2>&1`): no line overwrites another', async () => {
  const [a] = await upstreams();
  const hcm = 'access_log: [{ name: envoy.access_loggers.stdout, typed_config: { "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog } }]';
  const cfg = writeConfig(v3Config({ clusters: { a: [a.port] }, hcmExtra: hcm }));
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'attache-out-')), 'out.log');
  const fd = fs.openSync(out, 'w');
  const { spawn } = await import('node:child_process');
  const proc = spawn(process.execPath, [path.join(__dirname, '../../../bin/attache'), '-c', cfg, '--concurrency', '1', '--file-flush-interval-msec', '50'], { stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const line = await waitFor(() => /serving with 1 worker\(s\): listener_0:(\d+)/.exec(fs.readFileSync(out, 'utf8')), 10_000, 'serving line');
  const port = Number(line[1]);
  for (const p of ['/m1', '/m2', '/m3']) {
    assert.equal((await httpGet(port, p)).status, 200);
    await new Promise((r) => setTimeout(r, 120)); // each line flushed before the next request
  }
  proc.kill('SIGTERM');
  assert.equal(await exited, 0);
  const text = fs.readFileSync(out, 'utf8');
  for (const p of ['/m1', '/m2', '/m3']) assert.match(text, new RegExp(`"GET ${p} HTTP/1\\.1" 200 `), text);
  assert.match(text, /caught SIGTERM/);
});

test('a bad ATTACHE_HASH is one line on stderr and exit 1, not a stack trace', async () => {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, [path.join(__dirname, '../../../bin/attache'), '--version'], { env: { ...process.env, ATTACHE_HASH: 'bogus' }, encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'attache: ATTACHE_HASH must be native, wasm, js or auto, got "bogus"\n');
});

test('--skip-deprecated-logs drops the deprecation warnings (tutorial-v2.yaml has five)', async () => {
  const example = path.join(__dirname, '../../../examples/tutorial-v2.yaml');
  const loud = await runAttache(['-c', example, '--mode', 'validate']);
  assert.equal(loud.code, 0);
  assert.equal((loud.stdout + loud.stderr).match(/deprecated/g)?.length, 5);
  const quiet = await runAttache(['-c', example, '--mode', 'validate', '--skip-deprecated-logs']);
  assert.equal(quiet.code, 0);
  assert.doesNotMatch(quiet.stdout + quiet.stderr, /deprecated/);
});

/**
 * Observability across the process lifecycle (issue 4): admin on a Unix socket path, health check
 * fail/ok through envoy.filters.http.health_check on every worker, access-log reopening after
 * logrotate (admin /reopen_logs and SIGUSR1), no access-log line lost on SIGTERM, JSON
 * application log lines.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { httpGet, startProxy, startUpstream, v3Config, waitFor, writeConfig, type Proxy, type Upstream } from './harness';

let up: Upstream;
let proxy: Proxy;
let dir: string;
let sock: string;
let logFile: string;
let allFile: string;

/** An admin request over the Unix socket. */
function admin(p: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = http.request({ socketPath: sock, path: p, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    r.on('error', reject);
    r.end();
  });
}

before(async () => {
  up = await startUpstream('up');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attache-obs-life-'));
  sock = path.join(dir, 'admin.sock');
  logFile = path.join(dir, 'access.log');
  allFile = path.join(dir, 'all.log');
  let yaml = v3Config({
    clusters: { up: [up.port] },
    hcmExtra: `access_log:
- name: envoy.access_loggers.file
  filter: { not_health_check_filter: {} }
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
    path: ${logFile}
    log_format: { text_format_source: { inline_string: "%RESPONSE_CODE% %RESPONSE_FLAGS% %REQ(:PATH)%\\n" } }
- name: envoy.access_loggers.file
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
    path: ${allFile}
    format: "%RESPONSE_CODE% %RESPONSE_FLAGS% %REQ(:PATH)% %RESP(X-ENVOY-IMMEDIATE-HEALTH-CHECK-FAIL)%\\n"`,
    httpFilters: `- name: envoy.health_check
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck
    pass_through_mode: false
    headers: [ { name: ":path", exact_match: /healthz } ]
- name: envoy.filters.http.router
  typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }`,
  });
  yaml = yaml.replace(/^admin:\n  address: \{[^\n]*\}$/m, `admin:\n  address: { pipe: { path: ${sock}, mode: 384 } }`);
  assert.match(yaml, /pipe: \{ path:/);
  // A long flush interval: nothing reaches the files unless reopen or shutdown flushes it.
  proxy = await startProxy(['-c', writeConfig(yaml), '--concurrency', '2', '--file-flush-interval-msec', '600000', '--log-format', 'json']);
});

after(async () => {
  await proxy?.stop();
  await up?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('admin answers on the Unix socket path with the configured mode', async () => {
  assert.equal(fs.statSync(sock).mode & 0o777, 0o600);
  const r = await admin('/ready');
  assert.deepEqual(r, { status: 200, body: 'LIVE\n' });
});

test('/healthcheck/fail makes every worker answer 503 LH, /healthcheck/ok brings 200 back', async () => {
  const round = async () => {
    // New connection each time (agent: false): requests spread over both workers.
    const rs = await Promise.all(Array.from({ length: 8 }, () => httpGet(proxy.port, '/healthz')));
    return rs;
  };
  for (const r of await round()) {
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-envoy-immediate-health-check-fail'], undefined);
  }
  assert.equal((await admin('/healthcheck/fail')).status, 405); // GET is refused
  assert.deepEqual(await admin('/healthcheck/fail', 'POST'), { status: 200, body: 'OK\n' });
  // Envoy (source/server/utils.cc serverState()): a failed health check makes the server DRAINING.
  assert.deepEqual(await admin('/ready'), { status: 503, body: 'DRAINING\n' });
  assert.equal(JSON.parse((await admin('/server_info')).body).state, 'DRAINING');
  // ... and server.live 0 (InstanceImpl::failHealthcheck sets it to !fail).
  assert.match((await admin(`/stats?filter=${encodeURIComponent('^server\\.(state|live)$')}`)).body, /^server\.live: 0\nserver\.state: 1\n$/);
  // The message reaches the workers asynchronously; poll until all answer 503.
  await waitFor(async () => (await round()).every((r) => r.status === 503), 3000, 'every worker failing health checks');
  for (const r of await round()) {
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-envoy-immediate-health-check-fail'], 'true');
  }
  const other = await httpGet(proxy.port, '/not-a-health-check');
  assert.equal(other.status, 200, 'other requests are still proxied');
  assert.equal(other.headers['x-envoy-immediate-health-check-fail'], 'true');
  assert.deepEqual(await admin('/healthcheck/ok', 'POST'), { status: 200, body: 'OK\n' });
  assert.deepEqual(await admin('/ready'), { status: 200, body: 'LIVE\n' });
  assert.equal(JSON.parse((await admin('/server_info')).body).state, 'LIVE');
  assert.match((await admin(`/stats?filter=${encodeURIComponent('^server\\.live$')}`)).body, /^server\.live: 1\n$/);
  await waitFor(async () => (await round()).every((r) => r.status === 200), 3000, 'every worker passing health checks');
});

test('logrotate: /reopen_logs and SIGUSR1 reopen; SIGTERM loses no line', async () => {
  for (let i = 0; i < 3; i++) assert.equal((await httpGet(proxy.port, `/before/${i}`)).status, 200);
  fs.renameSync(logFile, logFile + '.1');
  assert.deepEqual(await admin('/reopen_logs', 'POST'), { status: 200, body: 'OK\n' });
  assert.ok(fs.existsSync(logFile), 'reopened file created');
  for (let i = 0; i < 2; i++) assert.equal((await httpGet(proxy.port, `/after-admin/${i}`)).status, 200);
  fs.renameSync(logFile, logFile + '.2');
  proxy.proc.kill('SIGUSR1');
  await waitFor(() => fs.existsSync(logFile) && proxy.output().includes('caught SIGUSR1'), 3000, 'SIGUSR1 reopen');
  await new Promise((r) => setTimeout(r, 300)); // both workers have processed the message
  for (let i = 0; i < 4; i++) assert.equal((await httpGet(proxy.port, `/after-usr1/${i}`)).status, 200);
  assert.equal(fs.readFileSync(logFile, 'utf8'), '', 'nothing flushed yet (600 s interval)');
  assert.equal(await proxy.stop('SIGTERM'), 0);
  const sorted = (f: string) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).sort();
  // Lines logged before a reopen stay in the rotated file; the not_health_check filter dropped /healthz.
  assert.deepEqual(sorted(logFile + '.1'), ['200 - /before/0', '200 - /before/1', '200 - /before/2', '200 - /not-a-health-check']);
  assert.deepEqual(sorted(logFile + '.2'), ['200 - /after-admin/0', '200 - /after-admin/1']);
  assert.deepEqual(sorted(logFile), ['200 - /after-usr1/0', '200 - /after-usr1/1', '200 - /after-usr1/2', '200 - /after-usr1/3']);
  // The unfiltered log has the health checks, 503 LH while failing.
  const all = sorted(allFile);
  assert.equal(all.length, 3 + 2 + 4 + 1 + all.filter((l) => l.includes('/healthz')).length);
  assert.ok(all.filter((l) => l === '503 LH /healthz true').length >= 8);
  assert.ok(all.filter((l) => l === '200 - /healthz -').length >= 16);
  assert.equal(all.filter((l) => /\/healthz/.test(l) && !/^(503 LH \/healthz true|200 - \/healthz -)$/.test(l)).length, 0);
});

test('--log-format json: every application log line is a JSON object with thread, level, component', () => {
  const lines = proxy.output().split('\n').filter(Boolean);
  assert.ok(lines.length >= 3);
  for (const l of lines) {
    const o = JSON.parse(l) as Record<string, string>;
    assert.deepEqual(Object.keys(o), ['time', 'thread', 'level', 'component', 'message']);
    assert.match(o.thread, /^(main|worker_\d+)$/);
  }
  assert.ok(lines.some((l) => JSON.parse(l).message.startsWith('caught SIGTERM')));
});

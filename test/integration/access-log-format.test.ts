/**
 * Access log formats and paths end to end (real attache processes): text_format_source read from a
 * file (Envoy's SubstitutionFormatString DataSource), `%%`, Envoy's config errors for malformed
 * operators and unopenable paths, json_format RESPONSE_FLAGS, REQUEST_DURATION and
 * UPSTREAM_LOCAL_ADDRESS.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { httpGet, runAttache, startProxy, startUpstream, v3Config, waitFor, writeConfig, type Upstream } from './harness';

const FILE_LOG = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';
const AL_PATH = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.access_log[0].typed_config';

let up: Upstream;
let dir: string;

before(async () => {
  up = await startUpstream('up', (_req, res, body) => res.end(`got ${body.length}`));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attache-alfmt-'));
});

after(async () => {
  await up?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** A config whose HCM has the given `access_log:` YAML list items. */
function withAccessLog(items: string): string {
  return v3Config({ clusters: { backend: [up.port] }, hcmExtra: `access_log:\n${items}` });
}

function fileLog(file: string, logFormat?: string): string {
  return `- name: envoy.access_loggers.file
  typed_config:
    "@type": ${FILE_LOG}
    path: ${file}${logFormat ? `\n    log_format: ${logFormat}` : ''}`;
}

/** Waits until `file` has `n` lines and returns them. */
async function lines(file: string, n: number): Promise<string[]> {
  return waitFor(() => {
    const t = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    const l = t.split('\n').filter((x) => x !== '');
    return l.length >= n ? l : false;
  }, 10_000, `${n} lines in ${file}`);
}

test('text_format_source.filename is the format; %% prints %; json RESPONSE_FLAGS without flags is "-"', async () => {
  const fmt = path.join(dir, 'fmt.txt');
  fs.writeFileSync(fmt, 'FROM-FILE %REQ(:PATH)% 100%% %RESPONSE_CODE% %UPSTREAM_CLUSTER%\n');
  const textLog = path.join(dir, 'text.log');
  const jsonLog = path.join(dir, 'json.log');
  const yaml = withAccessLog(`${fileLog(textLog, `{ text_format_source: { filename: ${fmt} } }`)}
${fileLog(jsonLog, '{ json_format: { flags: "%RESPONSE_FLAGS%", code: "%RESPONSE_CODE%", pct: "%RESPONSE_CODE%%%" } }')}`);
  const cfg = writeConfig(yaml);
  const v = await runAttache(['-c', cfg, '--mode', 'validate']);
  assert.equal(v.code, 0, v.stderr);
  const proxy = await startProxy(['-c', cfg, '--concurrency', '1', '--file-flush-interval-msec', '50']);
  try {
    const r = await httpGet(proxy.port, '/a?b=1');
    assert.equal(r.status, 200);
    assert.deepEqual(await lines(textLog, 1), ['FROM-FILE /a?b=1 100% 200 backend']);
    assert.deepEqual((await lines(jsonLog, 1)).map((l) => JSON.parse(l)), [{ flags: '-', code: 200, pct: '200%' }]);
  } finally {
    await proxy.stop();
  }
});

test('malformed operators are config errors in validate and serve (Envoy: "Couldn\'t find valid command at position N")', async () => {
  for (const [format, pos] of [['50% of %DURATION%', 2], ['%req(x-a)%', 0], ['%REQ(x-a) tail', 0]] as const) {
    const cfg = writeConfig(withAccessLog(fileLog(path.join(dir, 'never.log'), `{ text_format: "${format}" }`)));
    for (const mode of ['validate', 'serve']) {
      const r = await runAttache(['-c', cfg, '--mode', mode, '--concurrency', '1']);
      assert.equal(r.code, 1, `${mode} ${format}: ${r.stdout}${r.stderr}`);
      assert.ok(r.stderr.includes(`${AL_PATH}.log_format.text_format: Incorrect configuration: ${format}. Couldn't find valid command at position ${pos}`), `${mode}: ${r.stderr}`);
    }
  }
});

test('an unreadable text_format_source.filename fails validate, naming the field and the file', async () => {
  const cfg = writeConfig(withAccessLog(fileLog(path.join(dir, 'never.log'), '{ text_format_source: { filename: /nonexistent-dir/fmt.txt } }')));
  const r = await runAttache(['-c', cfg, '--mode', 'validate']);
  assert.equal(r.code, 1, r.stdout);
  assert.ok(r.stderr.includes(`${AL_PATH}.log_format.text_format_source.filename: unable to read access log format file '/nonexistent-dir/fmt.txt'`), r.stderr);
});

test('an access log path in a missing directory fails validate and serve, naming the field and the file', async () => {
  const cfg = writeConfig(withAccessLog(fileLog('/nonexistent-dir/x.log')));
  for (const mode of ['validate', 'serve']) {
    const r = await runAttache(['-c', cfg, '--mode', mode, '--concurrency', '1']);
    assert.equal(r.code, 1, `${mode}: ${r.stdout}`);
    assert.ok(r.stderr.includes(`${AL_PATH}.path: unable to open file '/nonexistent-dir/x.log'`), `${mode}: ${r.stderr}`);
  }
});

test('REQUEST_DURATION and UPSTREAM_LOCAL_ADDRESS print values for a proxied request', async () => {
  const log = path.join(dir, 'durations.log');
  const cfg = writeConfig(withAccessLog(fileLog(log, '{ text_format: "%REQUEST_DURATION% %UPSTREAM_LOCAL_ADDRESS% %UPSTREAM_LOCAL_PORT%\\n" }')));
  const proxy = await startProxy(['-c', cfg, '--concurrency', '1', '--file-flush-interval-msec', '50']);
  try {
    const r = await httpGet(proxy.port, '/x', {}, 'POST', 'hello');
    assert.equal(r.body, 'got 5');
    const [line] = await lines(log, 1);
    const m = /^(\d+) 127\.0\.0\.1:(\d+) (\d+)$/.exec(line);
    assert.ok(m, line);
    assert.ok(Number(m[1]) < 5000, line);
    assert.equal(m[2], m[3]);
    assert.notEqual(Number(m[2]), up.port);
  } finally {
    await proxy.stop();
  }
});

test('a request head that never completes: the 408 is logged from the head\'s first bytes (DURATION ≈ stream_idle_timeout), not from the timeout', async () => {
  const file = path.join(dir, 'head-timeout.log');
  const yaml = v3Config({
    clusters: { backend: [up.port] },
    hcmExtra: `stream_idle_timeout: 0.6s\naccess_log:\n${fileLog(file, '{ text_format_source: { inline_string: "%RESPONSE_CODE% %RESPONSE_FLAGS% %DURATION%\\n" } }')}`,
  });
  const proxy = await startProxy(['-c', writeConfig(yaml, 'alfmt-head-timeout.yaml'), '--concurrency', '1']);
  try {
    const net = await import('node:net');
    const sock = net.connect(proxy.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.write('GET / HTTP/1.1\r\nHo');
    const closed = new Promise((r) => sock.once('close', r));
    sock.on('data', () => {});
    await closed;
    const [line] = await lines(file, 1);
    const [code, flags, duration] = line.split(' ');
    assert.equal(code, '408');
    assert.equal(flags, 'SI');
    assert.ok(Number(duration) >= 500, `DURATION ${duration} ms counts from the first bytes of the head (timeout 600 ms)`);
  } finally {
    await proxy.stop();
  }
});

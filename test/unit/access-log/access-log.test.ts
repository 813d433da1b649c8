import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../../../src/common/errors';
import { compileAccessLogs } from '../../../src/http/access-log-sink';
import type { ActiveStream } from '../../../src/http/active-stream';
import { compileStrftime } from '../../../src/common/strftime';
import {
  AccessLogFileSink,
  AccessLogFormatter,
  DEFAULT_ACCESS_LOG_FORMAT,
  createAccessLoggers,
  closeAllAccessLogs,
  checkAccessLogConfig,
  type AccessLogRecord,
} from '../../../src/http/access-log';

const START = Date.UTC(2016, 3, 15, 20, 17, 0, 310);

function record(over: Partial<AccessLogRecord> = {}): AccessLogRecord {
  return {
    method: 'GET',
    path: '/api/v1/items?x=1',
    protocol: 'HTTP/1.1',
    authority: 'example.com',
    requestHeaders: ['host', 'example.com', 'user-agent', 'curl/7.88.1', 'x-request-id', 'abc-123', 'x-forwarded-for', '10.0.0.1'],
    responseHeaders: ['content-type', 'text/plain', 'x-envoy-upstream-service-time', '7'],
    status: 200,
    responseFlags: '',
    bytesReceived: 0,
    bytesSent: 12,
    startTimeMs: START,
    durationMs: 9.8,
    upstreamHost: '127.0.0.1:8080',
    upstreamCluster: 'backend',
    downstreamRemoteAddress: '127.0.0.1',
    downstreamRemotePort: 54321,
    downstreamLocalAddress: '127.0.0.1',
    downstreamLocalPort: 10000,
    routeName: 'r1',
    ...over,
  };
}

test('default format matches Envoy', () => {
  assert.equal(
    DEFAULT_ACCESS_LOG_FORMAT,
    '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n',
  );
  const f = new AccessLogFormatter();
  assert.equal(
    f.format(record()),
    '[2016-04-15T20:17:00.310Z] "GET /api/v1/items?x=1 HTTP/1.1" 200 - 0 12 9 7 "10.0.0.1" "curl/7.88.1" "abc-123" "example.com" "127.0.0.1:8080"\n',
  );
});

test('missing values print "-" and the original path wins over :path', () => {
  const f = new AccessLogFormatter();
  const line = f.format(
    record({
      originalPath: '/old',
      path: '/new',
      requestHeaders: [],
      responseHeaders: [],
      status: 503,
      responseFlags: 'UH',
      upstreamHost: undefined,
      durationMs: undefined,
    }),
  );
  assert.equal(line, '[2016-04-15T20:17:00.310Z] "GET /old HTTP/1.1" 503 UH 0 12 - - "-" "-" "-" "example.com" "-"\n');
});

test('operators: alternatives, truncation, addresses, durations, trailers', () => {
  const f = new AccessLogFormatter(
    '%REQ(X-MISSING?USER-AGENT):4% %RESP(CONTENT-TYPE)% %TRAILER(GRPC-STATUS)% %DOWNSTREAM_REMOTE_ADDRESS% ' +
      '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %DOWNSTREAM_LOCAL_ADDRESS% %UPSTREAM_CLUSTER% %ROUTE_NAME% ' +
      '%REQUEST_DURATION% %RESPONSE_DURATION% %RESPONSE_CODE%',
  );
  const line = f.format(record({ responseTrailers: ['grpc-status', '0'], requestDurationMs: 1.2, responseDurationMs: 5 }));
  assert.equal(line, 'curl text/plain 0 127.0.0.1:54321 127.0.0.1 127.0.0.1:10000 backend r1 1 5 200');
  const v6 = new AccessLogFormatter('%DOWNSTREAM_REMOTE_ADDRESS%').format(record({ downstreamRemoteAddress: '::1', downstreamRemotePort: 80 }));
  assert.equal(v6, '[::1]:80');
});

test('RESP(X-ENVOY-UPSTREAM-SERVICE-TIME) falls back to the record field', () => {
  const f = new AccessLogFormatter('%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%');
  assert.equal(f.format(record({ responseHeaders: [], upstreamServiceTimeMs: 12.7 })), '12');
});

test('START_TIME with a strftime format (UTC)', () => {
  const f = new AccessLogFormatter('%START_TIME(%Y/%m/%d %H:%M:%E3S %s)%');
  assert.equal(f.format(record()), '2016/04/15 20:17:00.310 1460751420');
  assert.equal(compileStrftime('%F %T.%3f %Z')(START), '2016-04-15 20:17:00.310 UTC');
});

test('unknown operators are rejected at compile time', () => {
  assert.throws(() => new AccessLogFormatter('%NOT_A_THING%'), /^Error: Not supported field in StreamInfo: NOT_A_THING$/);
});

test('json_format keeps types for single operators and nests objects', () => {
  const f = new AccessLogFormatter({
    status: '%RESPONSE_CODE%',
    method: '%REQ(:METHOD)%',
    missing: '%REQ(X-NOPE)%',
    line: '%REQ(:METHOD)% %REQ(:PATH)%',
    up: { host: '%UPSTREAM_HOST%', bytes: '%BYTES_SENT%' },
    fixed: 42,
  });
  const line = f.format(record());
  assert.ok(line.endsWith('\n'));
  assert.deepEqual(JSON.parse(line), {
    status: 200,
    method: 'GET',
    missing: null,
    line: 'GET /api/v1/items?x=1',
    up: { host: '127.0.0.1:8080', bytes: 12 },
    fixed: 42,
  });
});

test('file sink buffers, flushes over the size threshold and on flushSync', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attache-al-'));
  const file = path.join(dir, 'access.log');
  const sink = new AccessLogFileSink(file, { flushIntervalMs: 60_000, flushSizeBytes: 100 });
  sink.write('a'.repeat(50) + '\n');
  assert.equal(fs.readFileSync(file, 'utf8'), ''); // buffered, not yet written
  sink.write('b'.repeat(60) + '\n'); // over 100 bytes: async write starts
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(fs.readFileSync(file, 'utf8'), 'a'.repeat(50) + '\n' + 'b'.repeat(60) + '\n');
  sink.write('c\n');
  sink.flushSync();
  assert.ok(fs.readFileSync(file, 'utf8').endsWith('c\n'));
  sink.close();
  fs.rmSync(dir, { recursive: true });
});

test('file sink flushes on its interval', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attache-al-'));
  const file = path.join(dir, 'access.log');
  const sink = new AccessLogFileSink(file, { flushIntervalMs: 20 });
  sink.write('line\n');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(fs.readFileSync(file, 'utf8'), 'line\n');
  sink.close();
  fs.rmSync(dir, { recursive: true });
});

test('createAccessLoggers reads FileAccessLog configs', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attache-al-'));
  const file = path.join(dir, 'a.log');
  const loggers = createAccessLoggers([
    {
      name: 'envoy.access_loggers.file',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
        path: file,
        log_format: { text_format_source: { inline_string: '%RESPONSE_CODE% %UPSTREAM_CLUSTER%\n' } },
      },
    },
    { name: 'other', typed_config: { '@type': 'type.googleapis.com/some.Other' } },
  ]);
  assert.equal(loggers.length, 1);
  loggers[0].log(record());
  closeAllAccessLogs();
  assert.equal(fs.readFileSync(file, 'utf8'), '200 backend\n');
  fs.rmSync(dir, { recursive: true });
});

test('DOWNSTREAM_REMOTE_ADDRESS is the client (x-forwarded-for), DOWNSTREAM_DIRECT_REMOTE_ADDRESS the connection peer', () => {
  const f = new AccessLogFormatter('%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_DIRECT_REMOTE_ADDRESS% %DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT%');
  assert.equal(f.format(record({ downstreamRemoteAddress: '10.0.0.9', downstreamRemotePort: 0, downstreamDirectRemoteAddress: '127.0.0.1', downstreamDirectRemotePort: 5555 })), '10.0.0.9:0 127.0.0.1:5555 127.0.0.1');
});

const FILE_LOG = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'attache-al-'));
}

/** The ConfigError `fn` throws (fails when it throws something else or nothing). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

test('text_format_source: filename and inline_bytes are read at config time (Envoy DataSource)', () => {
  const dir = tmpDir();
  const fmt = path.join(dir, 'fmt.txt');
  fs.writeFileSync(fmt, 'FILE %RESPONSE_CODE% %UPSTREAM_CLUSTER%\n');
  const a = path.join(dir, 'a.log');
  const b = path.join(dir, 'b.log');
  const loggers = createAccessLoggers([
    { name: 'f', typed_config: { '@type': FILE_LOG, path: a, log_format: { text_format_source: { filename: fmt } } } },
    { name: 'b', typed_config: { '@type': FILE_LOG, path: b, log_format: { text_format_source: { inline_bytes: Buffer.from('BYTES %RESPONSE_CODE%\n').toString('base64') } } } },
  ]);
  fs.writeFileSync(fmt, 'changed later: not re-read\n');
  for (const l of loggers) l.log(record());
  closeAllAccessLogs();
  assert.equal(fs.readFileSync(a, 'utf8'), 'FILE 200 backend\n');
  assert.equal(fs.readFileSync(b, 'utf8'), 'BYTES 200\n');
  fs.rmSync(dir, { recursive: true });
});

test('text_format_source.filename that cannot be read is a config error naming the field and the file', () => {
  const dir = tmpDir();
  const cfg = { name: 'f', typed_config: { '@type': FILE_LOG, path: path.join(dir, 'a.log'), log_format: { text_format_source: { filename: '/nonexistent-dir/fmt.txt' } } } };
  for (const e of [configError(() => createAccessLoggers([cfg], undefined, 'hcm.access_log')), configError(() => checkAccessLogConfig(cfg, 'hcm.access_log[0]'))]) {
    assert.equal(e.path, 'hcm.access_log[0].typed_config.log_format.text_format_source.filename');
    assert.match(e.message, /unable to read access log format file '\/nonexistent-dir\/fmt.txt': ENOENT/);
  }
  // A bad operator in the file names the same field.
  const fmt = path.join(dir, 'fmt.txt');
  fs.writeFileSync(fmt, '%NOPE%');
  const e = configError(() => checkAccessLogConfig({ name: 'f', typed_config: { ...cfg.typed_config, log_format: { text_format_source: { filename: fmt } } } }, 'x'));
  assert.equal(e.path, 'x.typed_config.log_format.text_format_source.filename');
  assert.equal(e.message, 'Not supported field in StreamInfo: NOPE');
  fs.rmSync(dir, { recursive: true });
});

test('%% prints % (SubstitutionFormatParser escape)', () => {
  assert.equal(new AccessLogFormatter('100%% done %RESPONSE_CODE%%%\n').format(record()), '100% done 200%\n');
  assert.equal(new AccessLogFormatter('%%RESPONSE_CODE%%').format(record()), '%RESPONSE_CODE%');
  assert.deepEqual(JSON.parse(new AccessLogFormatter({ p: '%RESPONSE_CODE%%%' }).format(record())), { p: '200%' });
});

test('a % that starts no valid command is a config error with Envoy\'s wording and byte position', () => {
  const bad: Array<[string, number]> = [
    ['50% of %DURATION%', 2],
    ['%req(x-a)%', 0],
    ['a %REQ(x-a) tail', 2],
    ['%REQ(X-A)', 0],
    ['trailing %', 9],
    ['é %bad', 3], // position in bytes, as Envoy's std::string offsets
  ];
  for (const [fmt, pos] of bad) {
    assert.throws(() => new AccessLogFormatter(fmt), { message: `Incorrect configuration: ${fmt}. Couldn't find valid command at position ${pos}` }, fmt);
  }
  assert.throws(() => new AccessLogFormatter({ nested: { v: '50% of it' } }), /Couldn't find valid command at position 2/);
  const e = configError(() => checkAccessLogConfig({ name: 'f', typed_config: { '@type': FILE_LOG, path: '/dev/stdout', log_format: { text_format: '50% of %DURATION%' } } }, 'l.access_log[0]'));
  assert.equal(e.path, 'l.access_log[0].typed_config.log_format.text_format');
  // Still valid: digits in a command name, ')' inside a subcommand, START_TIME's own % specifiers.
  assert.equal(new AccessLogFormatter('%REQ(X-A)B)%|%START_TIME(%Y%%)%').format(record({ requestHeaders: ['x-a)b', 'v'] })), 'v|2016%');
});

test('REQUEST_DURATION and UPSTREAM_LOCAL_ADDRESS[_WITHOUT_PORT]/UPSTREAM_LOCAL_PORT print their values', () => {
  const f = new AccessLogFormatter('%REQUEST_DURATION% %UPSTREAM_LOCAL_ADDRESS% %UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT% %UPSTREAM_LOCAL_PORT%');
  assert.equal(f.format(record({ requestDurationMs: 3.7, upstreamLocalAddress: '127.0.0.1', upstreamLocalPort: 40001 })), '3 127.0.0.1:40001 127.0.0.1 40001');
  assert.equal(f.format(record({ upstreamLocalAddress: '::1', upstreamLocalPort: 5 })), '- [::1]:5 ::1 5');
  assert.equal(f.format(record()), '- - - -');
});

test('compileAccessLogs takes REQUEST_DURATION and the upstream local address from the StreamInfo', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'a.log');
  const [log] = compileAccessLogs([{ name: 'f', typed_config: { '@type': FILE_LOG, path: file, log_format: { text_format: '%REQUEST_DURATION% %UPSTREAM_LOCAL_ADDRESS% %DURATION%\n' } } }], 'hcm.access_log');
  const streamInfo = {
    startTimeMs: START, startMono: 1000, endMono: 1020, upstreamHeadersMono: 0, upstreamStartMono: 0, responseFlags: '', responseCode: 200,
    bytesReceived: 0, bytesSent: 0, downstreamRemoteAddress: '127.0.0.1', downstreamRemotePort: 1, downstreamLocalAddress: '127.0.0.1', downstreamLocalPort: 2,
    lastDownstreamRxByteReceivedMono: 1007.5, upstreamLocalAddress: '127.0.0.1', upstreamLocalPort: 40001,
  };
  const stream = { streamInfo, head: { method: 'GET', path: '/', versionMinor: 1, headers: [] }, responseHeaders: null, conn: { remoteAddress: '127.0.0.1', remotePort: 1 } };
  log(stream as unknown as ActiveStream);
  closeAllAccessLogs();
  assert.equal(fs.readFileSync(file, 'utf8'), '7 127.0.0.1:40001 20\n');
  fs.rmSync(dir, { recursive: true });
});

test('json_format: RESPONSE_FLAGS with no flag is "-" (ResponseFlagUtils::toShortString), as in text', () => {
  const f = new AccessLogFormatter({ flags: '%RESPONSE_FLAGS%', both: '%RESPONSE_FLAGS% %RESPONSE_CODE%' });
  assert.deepEqual(JSON.parse(f.format(record())), { flags: '-', both: '- 200' });
  assert.deepEqual(JSON.parse(f.format(record({ responseFlags: 'UH,UF' }))), { flags: 'UH,UF', both: 'UH,UF 200' });
  assert.equal(new AccessLogFormatter('%RESPONSE_FLAGS%').format(record()), '-');
});

test('an access log path that cannot be opened is a config error naming the field and the file', () => {
  const cfg = { name: 'f', typed_config: { '@type': FILE_LOG, path: '/nonexistent-dir/x.log' } };
  const e = configError(() => compileAccessLogs([cfg], 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.access_log'));
  assert.equal(e.path, 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.access_log[0].typed_config.path');
  assert.equal(e.message, "unable to open file '/nonexistent-dir/x.log': ENOENT: no such file or directory");
  assert.match(e.format(), /access_log\[0\]\.typed_config\.path: unable to open file '\/nonexistent-dir\/x\.log'/);
});

test('checkAccessLogConfig (validate): the directory must exist and be writable; nothing is created', () => {
  const v = checkAccessLogConfig;
  const e = configError(() => v({ name: 'f', typed_config: { '@type': FILE_LOG, path: '/nonexistent-dir/x.log' } }, 'l.access_log[1]'));
  assert.equal(e.path, 'l.access_log[1].typed_config.path');
  assert.equal(e.message, "unable to open file '/nonexistent-dir/x.log': directory '/nonexistent-dir': ENOENT: no such file or directory");
  const dir = tmpDir();
  const isDir = configError(() => v({ name: 'f', typed_config: { '@type': FILE_LOG, path: dir } }, 'p'));
  assert.match(isDir.message, /EISDIR/);
  const file = path.join(dir, 'new.log');
  v({ name: 'f', typed_config: { '@type': FILE_LOG, path: file } }, 'p');
  v({ name: 'f', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog' } }, 'p');
  assert.equal(fs.existsSync(file), false);
  if (process.getuid?.() !== 0) {
    fs.chmodSync(dir, 0o500);
    const ro = configError(() => v({ name: 'f', typed_config: { '@type': FILE_LOG, path: file } }, 'p'));
    assert.match(ro.message, /EACCES/);
    fs.chmodSync(dir, 0o700);
  }
  fs.rmSync(dir, { recursive: true });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  AccessLogFileSink,
  AccessLogFormatter,
  DEFAULT_ACCESS_LOG_FORMAT,
  compileStrftime,
  createAccessLoggers,
  closeAllAccessLogs,
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
  assert.throws(() => new AccessLogFormatter('%NOT_A_THING%'), /not supported field/);
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

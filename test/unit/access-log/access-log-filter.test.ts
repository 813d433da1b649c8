import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compileAccessLogFilter, type AccessLogFilterConfig } from '../../../src/http/access-log-filter';
import { AccessLogFileSink, createAccessLoggers, closeAllAccessLogs, type AccessLogRecord } from '../../../src/http/access-log';
import { ConfigError } from '../../../src/common/errors';

function rec(over: Partial<AccessLogRecord> = {}): AccessLogRecord {
  return {
    method: 'GET', path: '/x', protocol: 'HTTP/1.1', authority: 'h', requestHeaders: ['x-debug', '1'], status: 200, responseFlags: '',
    bytesReceived: 0, bytesSent: 0, startTimeMs: 0, durationMs: 12.7, downstreamRemoteAddress: '127.0.0.1', downstreamRemotePort: 1,
    downstreamLocalAddress: '127.0.0.1', downstreamLocalPort: 2, ...over,
  };
}
const f = (c: AccessLogFilterConfig) => compileAccessLogFilter(c, 'access_log[0].filter');

test('status_code_filter compares with EQ (default), GE, LE, NE', () => {
  const ge = f({ status_code_filter: { comparison: { op: 'GE', value: { default_value: 400, runtime_key: 'k' } } } });
  assert.deepEqual([200, 399, 400, 503].map((s) => ge(rec({ status: s }))), [false, false, true, true]);
  const eq = f({ status_code_filter: { comparison: { value: { default_value: 404 } } } });
  assert.deepEqual([404, 403].map((s) => eq(rec({ status: s }))), [true, false]);
  const le = f({ status_code_filter: { comparison: { op: 'LE', value: { default_value: 299 } } } });
  assert.deepEqual([0, 299, 300].map((s) => le(rec({ status: s }))), [true, true, false]);
  const ne = f({ status_code_filter: { comparison: { op: 'NE', value: { default_value: 200 } } } });
  assert.deepEqual([200, 201].map((s) => ne(rec({ status: s }))), [false, true]);
});

test('duration_filter compares whole milliseconds', () => {
  const ge = f({ duration_filter: { comparison: { op: 'GE', value: { default_value: 12 } } } });
  assert.equal(ge(rec({ durationMs: 12.7 })), true);
  assert.equal(ge(rec({ durationMs: 11.99 })), false);
  assert.equal(ge(rec({ durationMs: undefined })), false);
});

test('not_health_check, response_flag (listed or any), header filters', () => {
  const nhc = f({ not_health_check_filter: {} });
  assert.equal(nhc(rec()), true);
  assert.equal(nhc(rec({ healthCheck: true })), false);
  const uh = f({ response_flag_filter: { flags: ['UH', 'NR'] } });
  assert.deepEqual(['', 'UH', 'UF,URX', 'URX,NR'].map((x) => uh(rec({ responseFlags: x }))), [false, true, false, true]);
  const any = f({ response_flag_filter: {} });
  assert.deepEqual(['', 'UT'].map((x) => any(rec({ responseFlags: x }))), [false, true]);
  const hdr = f({ header_filter: { header: { name: 'x-debug', exact_match: '1' } } });
  assert.equal(hdr(rec()), true);
  assert.equal(hdr(rec({ requestHeaders: [] })), false);
});

test('and_filter / or_filter short-circuit combinations', () => {
  const errorsNotHc = f({
    and_filter: { filters: [{ status_code_filter: { comparison: { op: 'GE', value: { default_value: 500 } } } }, { not_health_check_filter: {} }] },
  });
  assert.equal(errorsNotHc(rec({ status: 503 })), true);
  assert.equal(errorsNotHc(rec({ status: 503, healthCheck: true })), false);
  assert.equal(errorsNotHc(rec({ status: 200 })), false);
  const slowOrFailed = f({
    or_filter: { filters: [{ duration_filter: { comparison: { op: 'GE', value: { default_value: 1000 } } } }, { response_flag_filter: {} }] },
  });
  assert.equal(slowOrFailed(rec({ durationMs: 1500 })), true);
  assert.equal(slowOrFailed(rec({ responseFlags: 'UF' })), true);
  assert.equal(slowOrFailed(rec()), false);
});

test('invalid filters are config errors naming the path', () => {
  assert.throws(() => f({ response_flag_filter: { flags: ['XX'] } }), (e: unknown) => e instanceof ConfigError && /unknown response flag "XX"/.test(e.message) && e.path === 'access_log[0].filter.response_flag_filter.flags[0]');
  assert.throws(() => f({ runtime_filter: {} } as unknown as AccessLogFilterConfig), /not supported/);
  assert.throws(() => f({ status_code_filter: { comparison: { op: 'GT' as 'GE', value: { default_value: 1 } } } }), /unknown comparison op/);
  assert.throws(() => f({}), /exactly one filter type/);
});

test('createAccessLoggers applies AccessLog.filter per record', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attache-alf-'));
  const file = path.join(dir, 'a.log');
  const loggers = createAccessLoggers([
    {
      name: 'envoy.access_loggers.file',
      filter: { status_code_filter: { comparison: { op: 'GE', value: { default_value: 500 } } } },
      typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog', path: file, log_format: { text_format: '%RESPONSE_CODE%\n' } },
    } as never,
  ]);
  for (const s of [200, 503, 404, 500]) loggers[0].log(rec({ status: s }));
  closeAllAccessLogs();
  assert.equal(fs.readFileSync(file, 'utf8'), '503\n500\n');
  fs.rmSync(dir, { recursive: true });
});

test('reopen: lines before go to the rotated file, lines after to the new one (with a write in flight)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attache-alr-'));
  const file = path.join(dir, 'access.log');
  const sink = new AccessLogFileSink(file, { flushIntervalMs: 60_000, flushSizeBytes: 10 });
  sink.write('one-0123456789\n'); // over the threshold: an async write is now in flight
  sink.write('two\n'); // buffered behind it
  fs.renameSync(file, file + '.1'); // logrotate
  sink.reopen();
  sink.write('three\n');
  await sink.drain();
  assert.equal(fs.readFileSync(file + '.1', 'utf8'), 'one-0123456789\ntwo\n');
  assert.equal(fs.readFileSync(file, 'utf8'), 'three\n');
  // Without a write in flight.
  fs.renameSync(file, file + '.2');
  sink.write('four\n');
  sink.reopen();
  sink.write('five\n');
  sink.close();
  assert.equal(fs.readFileSync(file + '.2', 'utf8'), 'three\nfour\n');
  assert.equal(fs.readFileSync(file, 'utf8'), 'five\n');
  fs.rmSync(dir, { recursive: true });
});

test('drain waits for the in-flight write and keeps line order', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attache-ald-'));
  const file = path.join(dir, 'access.log');
  const sink = new AccessLogFileSink(file, { flushIntervalMs: 60_000, flushSizeBytes: 64 });
  let expected = '';
  for (let i = 0; i < 2000; i++) {
    const line = `line ${i}\n`;
    expected += line;
    sink.write(line);
  }
  await sink.drain();
  assert.equal(fs.readFileSync(file, 'utf8'), expected);
  sink.close();
  fs.rmSync(dir, { recursive: true });
});

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LOG_FORMAT, logger, setLogFormat, setLogSink, setThreadName } from '../../../src/common/logger';

const lines: string[] = [];
setLogSink((l) => lines.push(l));
setThreadName('worker_3');
after(() => {
  setLogFormat(DEFAULT_LOG_FORMAT);
  setThreadName('main');
  setLogSink((l) => process.stderr.write(l));
});
const log = logger('upstream');

function last(): string {
  return lines[lines.length - 1];
}

test("Envoy's default pattern: [date time.ms][thread][level][component] message", () => {
  setLogFormat(DEFAULT_LOG_FORMAT);
  log.info('hello');
  assert.match(last(), /^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}\]\[worker_3\]\[info\]\[upstream\] hello\n$/);
});

test('pattern flags %L %_ %% and unknown flags; --log-format-escaped escapes %v', () => {
  setLogFormat('%L|%l|%n|%t|%_|%%|%Q');
  log.warn('a\nb');
  assert.equal(last(), 'W|warning|upstream|worker_3|a\\nb|%|%Q\n');
  setLogFormat('%v', true);
  log.error('x\ny\tz');
  assert.equal(last(), 'x\\ny\\tz\n');
  setLogFormat('%v');
  log.error('x\ny');
  assert.equal(last(), 'x\ny\n');
});

test('--log-format json: one parseable object per line, tagged with the thread', () => {
  setLogFormat('json');
  log.info('say "hi"\nthere');
  const l = last();
  assert.equal(l.split('\n').length, 2);
  const o = JSON.parse(l);
  assert.equal(o.thread, 'worker_3');
  assert.equal(o.level, 'info');
  assert.equal(o.component, 'upstream');
  assert.equal(o.message, 'say "hi"\nthere');
  assert.match(o.time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$/);
});

test('a JSON object of patterns (Envoy json_format style); constants keep their type', () => {
  setLogFormat('{"lvl":"%L","msg":"%j","who":"%t/%n","v":1}');
  log.debug('not printed at info');
  log.info('m"1');
  assert.deepEqual(JSON.parse(last()), { lvl: 'I', msg: 'm"1', who: 'worker_3/upstream', v: 1 });
  assert.throws(() => setLogFormat('{"bad":'), /invalid JSON format/);
});

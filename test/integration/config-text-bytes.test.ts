/**
 * Text from config on the wire: header values, server_name, via and host_rewrite_literal go out
 * as the UTF-8 bytes of the text (as Envoy sends them), a direct_response body too, and a CR, LF
 * or NUL in a header value is a config error naming the field (Envoy's HTTP_HEADER_VALUE rule).
 * Redirect fields (host_redirect, path_redirect, scheme_redirect, prefix_rewrite) become the
 * location header: UTF-8 too.
 * A char whose low byte is CR or LF (U+010D, U+010A) must never split a head.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rawRequest, runAttache, startProxy, startUpstream, v3Config, writeConfig, type Proxy, type Upstream } from './harness';

let up: Upstream;
let proxy: Proxy;
/** `café €`, `ok` + U+010D U+010A + `x-injected: yes` (each char's low byte is CR, LF). */
const CAFE = 'caf\u00e9 \u20ac';
const TRICK = 'ok\u010d\u010ax-injected: yes';

before(async () => {
  up = await startUpstream('U');
  const routes = `
- match: { prefix: "/utf" }
  direct_response: { status: 200, body: { inline_string: "${CAFE}" } }
- match: { prefix: "/moved" }
  redirect: { host_redirect: "h\u00f6st.example", path_redirect: "/caf\u00e9?q=\u20ac" }
- match: { prefix: "/" }
  route: { cluster: u, host_rewrite_literal: "h\u00f6st.example" }
  request_headers_to_add: [{ header: { key: x-req-text, value: "${CAFE}" } }, { header: { key: x-req-trick, value: "${TRICK}" } }]
  response_headers_to_add: [{ header: { key: x-text, value: "${CAFE}" } }, { header: { key: x-trick, value: "${TRICK}" } }]`;
  const yaml = v3Config({ clusters: { u: [up.port] }, routes, hcmExtra: `server_name: "env\u00f6y"\nserver_header_transformation: OVERWRITE\nvia: "v\u00eda"` });
  proxy = await startProxy(['-c', writeConfig(yaml, 'config-text.yaml'), '--concurrency', '1']);
});
after(async () => {
  await proxy.stop();
  await up.close();
});

/** The raw bytes of header `name`'s value in a raw head. */
function rawValue(raw: Buffer, name: string): Buffer | undefined {
  const head = raw.subarray(0, raw.indexOf('\r\n\r\n'));
  for (const line of head.toString('latin1').split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && line.slice(0, i).toLowerCase() === name) return Buffer.from(line.slice(i + 1).trim(), 'latin1');
  }
  return undefined;
}

test('config header values, server_name and via go out as UTF-8; a char whose low byte is CR/LF does not split the head', async () => {
  const r = await rawRequest(proxy.port, 'GET /x HTTP/1.1\r\nHost: a\r\n\r\n');
  const res = r.responses[0];
  assert.equal(res.status, 200);
  assert.deepEqual(rawValue(res.raw, 'x-text'), Buffer.from(CAFE, 'utf8'));
  assert.deepEqual(rawValue(res.raw, 'x-trick'), Buffer.from(TRICK, 'utf8'));
  assert.equal(rawValue(res.raw, 'x-injected'), undefined, 'no injected response header');
  assert.deepEqual(rawValue(res.raw, 'server'), Buffer.from('env\u00f6y', 'utf8'));
  assert.deepEqual(rawValue(res.raw, 'via'), Buffer.from('v\u00eda', 'utf8'));
  const seen = up.seen[up.seen.length - 1];
  const raw = (name: string) => {
    const i = seen.rawHeaders.findIndex((h, k) => k % 2 === 0 && h.toLowerCase() === name);
    return i === -1 ? undefined : Buffer.from(seen.rawHeaders[i + 1], 'latin1');
  };
  assert.deepEqual(raw('x-req-text'), Buffer.from(CAFE, 'utf8'));
  assert.deepEqual(raw('x-req-trick'), Buffer.from(TRICK, 'utf8'));
  assert.equal(raw('x-injected'), undefined, 'no injected request header');
  assert.deepEqual(raw('host'), Buffer.from('h\u00f6st.example', 'utf8'));
});

test('a direct_response body is sent as its UTF-8 bytes, with their count as content-length', async () => {
  const r = await rawRequest(proxy.port, 'GET /utf HTTP/1.1\r\nHost: a\r\n\r\n');
  assert.equal(r.responses[0].status, 200);
  assert.deepEqual(r.responses[0].body, Buffer.from(CAFE, 'utf8'));
  assert.equal(r.responses[0].headers['content-length'], String(Buffer.byteLength(CAFE)));
});

test('redirect fields go into location as UTF-8', async () => {
  const r = await rawRequest(proxy.port, 'GET /moved HTTP/1.1\r\nHost: a\r\n\r\n');
  assert.equal(r.responses[0].status, 301);
  assert.deepEqual(rawValue(r.responses[0].raw, 'location'), Buffer.from('http://h\u00f6st.example/caf\u00e9?q=\u20ac', 'utf8'));
});

for (const [label, value] of [['CR LF', 'a\\r\\nx-injected: 1'], ['NUL', 'a\\0b']]) {
  test(`a header value with ${label} is a config error that names the field`, async () => {
    const yaml = v3Config({
      clusters: { u: [1] },
      routes: `- match: { prefix: "/" }\n  route: { cluster: u }\n  response_headers_to_add: [{ header: { key: x-bad, value: "${value}" } }]`,
    });
    const r = await runAttache(['--mode', 'validate', '-c', writeConfig(yaml, 'config-text-bad.yaml')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /response_headers_to_add\[0\]\.header\.value/);
    assert.match(r.stderr, /CR, LF and NUL are not allowed/);
  });
}

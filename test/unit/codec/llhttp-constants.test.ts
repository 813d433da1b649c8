import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ERRNO_NAMES, HPE_OK, HPE_PAUSED, HPE_PAUSED_H2_UPGRADE, HPE_PAUSED_UPGRADE, HPE_USER, LLHTTP_TYPE_BOTH,
  LLHTTP_TYPE_REQUEST, LLHTTP_TYPE_RESPONSE, METHOD_NAMES,
} from '../../../src/codec/http1/llhttp';
import { WELL_KNOWN_HEADERS, headerName } from '../../../src/codec/http1/header-names';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const upstream = require('llhttp-wasm/out/constants.js') as {
  ERROR: Record<string, number>;
  TYPE: Record<string, number>;
  METHODS: Record<string, number>;
};

test('our llhttp constants match llhttp-wasm/out/constants.js', () => {
  assert.deepEqual([LLHTTP_TYPE_BOTH, LLHTTP_TYPE_REQUEST, LLHTTP_TYPE_RESPONSE], [upstream.TYPE.BOTH, upstream.TYPE.REQUEST, upstream.TYPE.RESPONSE]);
  assert.deepEqual([HPE_OK, HPE_PAUSED, HPE_PAUSED_UPGRADE, HPE_PAUSED_H2_UPGRADE, HPE_USER], [upstream.ERROR.OK, upstream.ERROR.PAUSED, upstream.ERROR.PAUSED_UPGRADE, upstream.ERROR.PAUSED_H2_UPGRADE, upstream.ERROR.USER]);
  for (const [name, n] of Object.entries(upstream.ERROR)) assert.equal(ERRNO_NAMES[n], `HPE_${name}`);
  assert.equal(upstream.ERROR.PAUSED, HPE_PAUSED);
  assert.equal(upstream.ERROR.PAUSED_UPGRADE, HPE_PAUSED_UPGRADE);
  assert.equal(upstream.ERROR.USER, HPE_USER);
  for (const [name, n] of Object.entries(upstream.METHODS)) assert.equal(METHOD_NAMES[n], name);
  assert.equal(METHOD_NAMES.length, Object.keys(upstream.METHODS).length);
});

test('headerName: interned well-known names, lowercasing of others', () => {
  const buf = Buffer.from('xxCONTENT-Type|Content-Length|X-My-Header|x-lower|te|TE', 'latin1');
  const a = headerName(buf, 2, 12);
  assert.equal(a, 'content-type');
  assert.equal(headerName(buf, 15, 14), 'content-length');
  assert.equal(headerName(buf, 30, 11), 'x-my-header');
  assert.equal(headerName(buf, 42, 7), 'x-lower');
  assert.equal(headerName(buf, 50, 2), 'te');
  assert.equal(headerName(buf, 53, 2), 'te');
  // near misses of well-known names are not interned wrongly
  const near = Buffer.from('content-typf|hosT|hosu', 'latin1');
  assert.equal(headerName(near, 0, 12), 'content-typf');
  assert.equal(headerName(near, 13, 4), 'host');
  assert.equal(headerName(near, 18, 4), 'hosu');
  for (const n of WELL_KNOWN_HEADERS) {
    assert.equal(n, n.toLowerCase());
    assert.equal(headerName(Buffer.from(n.toUpperCase(), 'latin1'), 0, n.length), n);
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeHash } from '../../../src/filters/http/router/hash-policy';
import { xxhash64 } from '../../../src/native';

test('header hash_policy: one value is xxHash64(value); several are sorted and chained (Envoy HeaderHashMethod), so their order does not matter', () => {
  const p = [{ header: { header_name: 'X-Key' } }];
  assert.equal(computeHash(p, ['x-key', 'u1'], '/', ''), xxhash64('u1'));
  const ab = computeHash(p, ['x-key', 'u1', 'x-key', 'u2'], '/', '');
  const ba = computeHash(p, ['x-key', 'u2', 'x-key', 'u1'], '/', '');
  assert.equal(ab, ba);
  assert.equal(ab, xxhash64('u2', xxhash64('u1')));
  assert.equal(computeHash(p, ['other', 'x'], '/', ''), undefined);
});

test('several policies combine as rotl64(hash, 1) ^ next; terminal stops', () => {
  const h1 = xxhash64('a');
  const h2 = xxhash64('1.2.3.4');
  const rotl = ((h1 << 1n) | (h1 >> 63n)) & ((1n << 64n) - 1n);
  const both = [{ header: { header_name: 'x-a' } }, { connection_properties: { source_ip: true } }];
  assert.equal(computeHash(both, ['x-a', 'a'], '/', '1.2.3.4'), rotl ^ h2);
  assert.equal(computeHash([{ header: { header_name: 'x-a' }, terminal: true }, { connection_properties: { source_ip: true } }], ['x-a', 'a'], '/', '1.2.3.4'), h1);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import xxhash from 'xxhash-wasm';
import { xxh64 } from './xxh64';

test('test-only XXH64 matches published vectors', () => {
  assert.equal(xxh64(''), 0xef46db3751d8e999n);
  assert.equal(xxh64('a'), 0xd24ec4f1a98c6e5bn);
  assert.equal(xxh64('abc'), 0x44bc2cf5ad770999n);
});

test('test-only XXH64 matches xxhash-wasm for all lengths 0..80 and seeds 0, 1', async () => {
  const { h64 } = await xxhash();
  let s = '';
  for (let len = 0; len <= 80; len++) {
    for (const seed of [0n, 1n]) assert.equal(xxh64(s, seed), h64(s, seed), `len ${len} seed ${seed}`);
    s += String.fromCharCode(97 + (len % 26));
  }
  assert.equal(xxh64('10.0.0.1:80_0'), h64('10.0.0.1:80_0', 0n));
});

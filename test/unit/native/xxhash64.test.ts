import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getHasher, hashImplementation, hashKey, loadWasmHasher, native, ready, xxhash64, xxhash64Into, xxhash64Mod, type Hasher } from '../../../src/native';

const SKIP_NATIVE = native.available ? false : `native addon not built (${native.reason}); run npm run build:native`;

// Published XXH64 values. Envoy test/common/common/hash_test.cc (HashUtil::xxHash64, seed 0),
// LLVM unittests/Support/xxhashTest.cpp, and the xxHash reference (empty input, "a", "abc").
const VECTORS: [string, bigint, bigint][] = [
  ['', 0n, 0xef46db3751d8e999n],
  ['', 0n, 17241709254077376921n],
  ['a', 0n, 0xd24ec4f1a98c6e5bn],
  ['abc', 0n, 0x44bc2cf5ad770999n],
  ['foo', 0n, 3728699739546630719n],
  ['bar', 0n, 5234164152756840025n],
  ['foo\nbar', 0n, 8917841378505826757n],
  ['lyft', 0n, 4400747396090729504n],
  ['0123456789abcdefghijklmnopqrstuvwxyz', 0n, 0x69196c1b3af0bff9n],
  ['abcdefghijklmnopqrstuvwxyz12345', 0n, 0x467605901b01d6f6n],
  ['', 668718853n, 0x04e830582a31a119n],
  ['a', 191961062n, 0x6e05ba2887c97977n],
  ['abcdefghijklmnopqrstuvwxyz12345', 877380273n, 0x37b562ec5715e132n],
];

function hashers(): { name: string; h: Hasher | undefined }[] {
  return [
    { name: 'native', h: native.available ? getHasher('native') : undefined },
    { name: 'wasm', h: getHasher('wasm') },
    { name: 'js', h: getHasher('js') },
  ];
}

test('known XXH64 vectors, every implementation, string and Buffer input', async () => {
  await ready;
  await loadWasmHasher();
  for (const { name, h } of hashers()) {
    if (!h) continue;
    for (const [input, seed, want] of VECTORS) {
      assert.equal(h.xxhash64(input, seed), want, `${name} "${input}" seed ${seed}`);
      assert.equal(h.xxhash64(Buffer.from(input), seed), want, `${name} Buffer "${input}" seed ${seed}`);
    }
  }
});

test('native addon matches the known vectors', { skip: SKIP_NATIVE }, () => {
  const h = getHasher('native');
  for (const [input, seed, want] of VECTORS) assert.equal(h.xxhash64(input, seed), want);
});

/** Deterministic key set: lengths 0..300 (every tail branch, 32-byte stripes, >256-byte strings). */
function* keys(n: number): Generator<{ data: string | Uint8Array; seed: number | bigint }> {
  let x = 0x9e3779b9;
  const rnd = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const backing = Buffer.alloc(512);
  for (let i = 0; i < n; i++) {
    const len = i % 10 === 0 ? rnd() % 300 : rnd() % 40;
    const kind = i % 4;
    let data: string | Uint8Array;
    if (kind === 0) {
      data = `${i}.${rnd().toString(36)}`.padEnd(len, 'k').slice(0, Math.max(len, 1));
    } else if (kind === 1) {
      let s = '';
      while (s.length < len) s += String.fromCharCode(rnd() % 0xe000);
      data = s; // 1-3 byte UTF-8 and lone surrogates (U+FFFD)
    } else {
      const off = rnd() % 64; // a view at an odd offset into a shared buffer
      for (let j = 0; j < len; j++) backing[off + j] = rnd() & 0xff;
      data = backing.subarray(off, off + len);
    }
    const seed = i % 3 === 0 ? 0 : i % 3 === 1 ? rnd() : (BigInt(rnd()) << 32n) | BigInt(rnd());
    yield { data, seed };
  }
}

test('native, wasm and js agree on 100,000 keys (xxhash64, Into, Mod, hashKey)', async (t) => {
  await ready;
  await loadWasmHasher();
  const wasm = getHasher('wasm');
  const js = getHasher('js');
  const nat = native.available ? getHasher('native') : undefined;
  if (!nat) t.diagnostic(`native comparison skipped: native addon not built (${native.reason})`);
  const a = new Uint32Array(2);
  const b = new Uint32Array(2);
  let n = 0;
  for (const { data, seed } of keys(100_000)) {
    const want = js.xxhash64(data, seed);
    assert.equal(wasm.xxhash64(data, seed), want, `wasm key #${n}`);
    if (nat) assert.equal(nat.xxhash64(data, seed), want, `native key #${n}`);
    if (n % 10 === 0) {
      wasm.xxhash64Into(data, a, seed);
      assert.equal((BigInt(a[1]) << 32n) | BigInt(a[0]), want, `wasm Into #${n}`);
      const m = n % 20 === 0 ? 65537 : 4294967291; // Maglev's default table size; a large prime
      assert.equal(wasm.xxhash64Mod(data, m, seed), Number(want % BigInt(m)), `wasm Mod #${n}`);
      assert.equal(js.xxhash64Mod(data, m, seed), Number(want % BigInt(m)), `js Mod #${n}`);
      if (nat) {
        nat.xxhash64Into(data, b, seed);
        assert.deepEqual(b, a, `native Into #${n}`);
        assert.equal(nat.xxhash64Mod(data, m, seed), Number(want % BigInt(m)), `native Mod #${n}`);
        assert.equal(nat.hashKey(data), wasm.hashKey(data), `native hashKey #${n}`);
      }
      assert.equal(js.hashKey(data), Number(js.xxhash64(data) & 0xffffffffn), `js hashKey #${n}`);
    }
    n++;
  }
  assert.equal(n, 100_000);
});

test('strings hash as their UTF-8 bytes, lone surrogates as U+FFFD', async () => {
  await ready;
  await loadWasmHasher();
  for (const { name, h } of hashers()) {
    if (!h) continue;
    for (const s of ['héllo wörld', '日本語のキー', '\u{1f600}', '\ud800x', 'x\udfff', 'é'.repeat(300)]) {
      assert.equal(h.xxhash64(s), getHasher('js').xxhash64(Buffer.from(s, 'utf8')), `${name} ${JSON.stringify(s)}`);
    }
  }
});

test('module-level functions use the selected implementation and match it', async () => {
  await ready;
  await loadWasmHasher();
  const env = process.env.ATTACHE_HASH;
  const want = env && env !== 'auto' ? env : native.available ? 'native' : 'wasm';
  assert.equal(hashImplementation(), want);
  const out = new Uint32Array(2);
  xxhash64Into('foo', out);
  assert.deepEqual([...out], [Number(3728699739546630719n & 0xffffffffn), Number(3728699739546630719n >> 32n)]);
  assert.equal(xxhash64('foo'), 3728699739546630719n);
  assert.equal(xxhash64Mod('foo', 65537), Number(3728699739546630719n % 65537n));
  assert.equal(hashKey('foo'), out[0]);
});

test('bad arguments throw the same error class in every implementation', async () => {
  await ready;
  await loadWasmHasher();
  for (const { name, h } of hashers()) {
    if (!h) continue;
    assert.throws(() => h.xxhash64(42 as unknown as string), TypeError, `${name} data`);
    assert.throws(() => h.xxhash64('x', -1), TypeError, `${name} negative seed`);
    assert.throws(() => h.xxhash64('x', 1.5), TypeError, `${name} fractional seed`);
    assert.throws(() => h.xxhash64Into('x', new Uint32Array(1)), TypeError, `${name} short out`);
    assert.throws(() => h.xxhash64Into('x', new Int32Array(2) as unknown as Uint32Array), TypeError, `${name} out type`);
    assert.throws(() => h.xxhash64Mod('x', 0), RangeError, `${name} modulus 0`);
    assert.throws(() => h.xxhash64Mod('x', 2 ** 32), RangeError, `${name} modulus 2^32`);
    // A bigint seed is taken mod 2^64.
    assert.equal(h.xxhash64('x', -1n), h.xxhash64('x', 0xffffffffffffffffn), `${name} -1n`);
  }
});

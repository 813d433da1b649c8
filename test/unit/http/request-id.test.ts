import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newRequestId } from '../../../src/http/request-id';

test('request ids are version-4 UUIDs, all distinct over 100,000, every hex digit and variant used', () => {
  const seen = new Set<string>();
  const variants = new Set<string>();
  const digits = new Set<string>();
  for (let i = 0; i < 100_000; i++) {
    const id = newRequestId();
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    seen.add(id);
    variants.add(id[19]);
    if (i < 1000) for (const c of id.replace(/-/g, '')) digits.add(c);
  }
  assert.equal(seen.size, 100_000);
  assert.deepEqual([...variants].sort(), ['8', '9', 'a', 'b']);
  assert.equal(digits.size, 16);
});

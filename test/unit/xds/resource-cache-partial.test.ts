import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TYPE_URLS } from '../../../src/config';
import type { Cluster } from '../../../src/config/model';
import { ResourceCache } from '../../../src/xds/resource-cache';

test('a partial cache (LDS/CDS) applies the valid resources of a bad response; the failed one keeps its version, the accepted version stays', () => {
  const c = new ResourceCache<Cluster>(TYPE_URLS.cluster, 'cluster', true, true);
  const first = c.accept([{ name: 'a', connect_timeout: '1s' }, { name: 'b', connect_timeout: '1s' }], 'v1');
  assert.ok(typeof first !== 'string' && first.error === undefined);
  const r = c.accept([{ name: 'a', connect_timeout: '2s' }, { name: 'b', connect_timeout: '-1s' }, { name: 'c', connect_timeout: '3s' }], 'v2');
  assert.ok(typeof r !== 'string');
  assert.match(r.error ?? '', /cluster "b"/);
  assert.deepEqual(r.changed.sort(), ['a', 'c']);
  assert.equal(c.get('a')!.connect_timeout, '2s');
  assert.equal(c.get('b')!.connect_timeout, '1s');
  assert.equal(c.version, 'v1');
  // An all-or-nothing cache (EDS/RDS) changes nothing.
  const strict = new ResourceCache<Cluster>(TYPE_URLS.cluster, 'cluster', true);
  strict.accept([{ name: 'a', connect_timeout: '1s' }], 'v1');
  assert.equal(typeof strict.accept([{ name: 'a', connect_timeout: '2s' }, { name: 'b', connect_timeout: '-1s' }], 'v2'), 'string');
  assert.equal(strict.get('a')!.connect_timeout, '1s');
});

test('a name twice in one CDS/LDS response: the first copy is applied, the duplicate is NACKed (Envoy CdsApiHelper)', () => {
  const c = new ResourceCache<Cluster>(TYPE_URLS.cluster, 'cluster', true, true);
  c.accept([{ name: 'new', connect_timeout: '1s' }], 'v1');
  const r = c.accept([{ name: 'new', connect_timeout: '2s' }, { name: 'new', connect_timeout: '3s' }, { name: 'other', connect_timeout: '4s' }], 'v2');
  assert.ok(typeof r !== 'string');
  assert.match(r.error ?? '', /duplicate cluster "new" in one response/);
  assert.equal(c.get('new')!.connect_timeout, '2s');
  assert.equal(c.get('other')!.connect_timeout, '4s');
  assert.equal(c.version, 'v1', 'NACKed: the accepted version stays');
  assert.deepEqual(c.rejected?.names, ['new']);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Cluster } from '../../../src/config/model';
import { DnsDiscovery } from '../../../src/server/dns-discovery';
import { clampTimeoutMs, MAX_TIMEOUT_MS } from '../../../src/common/timer-limit';

test('clampTimeoutMs: delays above 2^31-1 ms are clamped, others kept, negatives and NaN give 0', () => {
  assert.equal(MAX_TIMEOUT_MS, 2147483647);
  assert.equal(clampTimeoutMs(2_592_000_000), MAX_TIMEOUT_MS); // dns_refresh_rate: 2592000s
  assert.equal(clampTimeoutMs(5000), 5000);
  assert.equal(clampTimeoutMs(-3), 0);
  assert.equal(clampTimeoutMs(Number.NaN), 0);
});

test('STRICT_DNS with dns_refresh_rate 2592000s (30 days) resolves once, not in a 1 ms loop', async () => {
  const cluster = {
    name: 'svc',
    type: 'STRICT_DNS',
    dns_refresh_rate: '2592000s',
    load_assignment: { cluster_name: 'svc', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'svc.test', port_value: 80 } } } }] }] },
  } as unknown as Cluster;
  let lookups = 0;
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on('warning', onWarning);
  const d = new DnsDiscovery([cluster], {
    onUpdate: () => {},
    lookup: async () => {
      lookups++;
      return [{ address: '127.0.0.1', family: 4 }];
    },
  });
  try {
    await d.start();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(lookups, 1);
    assert.deepEqual(warnings.filter((w) => w === 'TimeoutOverflowWarning'), []);
  } finally {
    d.stop();
    process.off('warning', onWarning);
  }
});

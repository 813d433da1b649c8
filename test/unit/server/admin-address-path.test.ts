import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Bootstrap } from '../../../src/config/model';
import { startAdmin, writeAdminAddress } from '../../../src/server/admin-glue';
import { parseOptions } from '../../../src/server/options';

test('--admin-address-path: the admin address (ip:port, port 0 resolved) is written once admin listens', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attache-admin-'));
  const file = path.join(dir, 'admin.address');
  const bootstrap = { admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } } } as unknown as Bootstrap;
  const opts = { ...parseOptions(['--config-yaml', '{}']), adminAddressPath: file };
  const admin = await startAdmin({ bootstrap, opts, startMs: Date.now(), version: '0', concurrency: 1, snapshot: () => ({ version: 1, listeners: [], clusters: [], endpoints: {}, routes: {} }), shutdown: () => {} });
  try {
    assert.ok(admin.port > 0);
    assert.equal(fs.readFileSync(file, 'utf8'), `127.0.0.1:${admin.port}`);
  } finally {
    await admin.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('writeAdminAddress: a path that cannot be written does not throw (Envoy logs it at critical level)', () => {
  assert.doesNotThrow(() => writeAdminAddress('/nonexistent-dir/x/admin.address', '127.0.0.1:1'));
  assert.equal(fs.existsSync('/nonexistent-dir/x/admin.address'), false);
});

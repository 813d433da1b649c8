import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

/** dist/src/server/cli.js (tests run from dist/test/unit/config). */
const CLI = path.resolve(__dirname, '../../../src/server/cli.js');

test('--mode validate with neither -c nor --config-yaml says no configuration was given', () => {
  const r = spawnSync(process.execPath, [CLI, '--mode', 'validate'], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, 'configuration is invalid: no configuration given\n');
  assert.match(r.stderr, /no configuration given: pass a config file \(--config-path\) or inline YAML \(--config-yaml\)/);
});

/**
 * Runs every micro-benchmark in this folder (each compiled file that is not this one) in its own
 * Node process, one after the other, and prints their output under a heading per file; with
 * `--out FILE` also writes it there. Run: `npx tsc -p tsconfig.json && node dist/bench/micro/run-all.js`.
 * A failing benchmark is reported and the others still run; exit code 1 if any failed.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const self = basename(__filename);
const files = readdirSync(__dirname)
  .filter((f) => f.endsWith('.js') && f !== self)
  .sort();
const outIdx = process.argv.indexOf('--out');
const outFile = outIdx > 0 ? process.argv[outIdx + 1] : undefined;
const chunks: string[] = [`# micro-benchmarks (node ${process.version}, ${new Date().toISOString()})`];
let failed = 0;
for (const f of files) {
  process.stderr.write(`[micro] ${f}\n`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [join(__dirname, f)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const ok = r.status === 0;
  if (!ok) failed++;
  const text = `\n## ${f.replace(/\.js$/, '')} (${((Date.now() - t0) / 1000).toFixed(1)} s${ok ? '' : `, FAILED with ${r.status ?? r.signal}`})\n${r.stdout}${ok ? '' : r.stderr}`;
  process.stdout.write(text);
  chunks.push(text);
}
if (outFile) writeFileSync(outFile, chunks.join('\n') + '\n');
process.exitCode = failed > 0 ? 1 : 0;

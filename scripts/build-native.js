#!/usr/bin/env node
'use strict';
/**
 * Builds the optional Rust N-API addon in native/ and installs it as
 * native/attache.<platform>-<arch>.node, the file src/native/index.ts loads.
 *
 *   node scripts/build-native.js             build; any failure exits 1 with the reason
 *   node scripts/build-native.js --optional  (npm's `install` script) a failure prints one line and exits 0:
 *                                            attache then uses the WebAssembly/TypeScript fallbacks
 *   node scripts/build-native.js --debug     cargo's dev profile instead of --release
 *
 * Environment: ATTACHE_SKIP_NATIVE=1 skips the build (exit 0). Runs plain `cargo build --offline`
 * (the crate has no dependencies, so no registry is needed) with $CARGO_HOME/bin and $HOME/.cargo/bin
 * added to PATH, since npm and CI shells often lack the rustup profile. @napi-rs/cli is not used:
 * it is a devDependency, absent from production installs where this script still runs.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const crateDir = path.join(root, 'native');
const addonName = `attache.${process.platform}-${process.arch}.node`;
const dest = path.join(crateDir, addonName);

const argv = process.argv.slice(2);
const optional = argv.includes('--optional');
const debug = argv.includes('--debug');

/** Thrown for an expected failure; `short` is the reason shown in the one-line --optional message. */
class BuildError extends Error {
  constructor(short, detail) {
    super(detail ? `${short}\n${detail}` : short);
    this.short = short;
  }
}

function cargoEnv() {
  const env = { ...process.env };
  const extra = [];
  if (env.CARGO_HOME) extra.push(path.join(env.CARGO_HOME, 'bin'));
  extra.push(path.join(os.homedir(), '.cargo', 'bin'));
  env.PATH = [...extra, env.PATH || ''].join(path.delimiter);
  return env;
}

function libFileName() {
  if (process.platform === 'win32') return 'attache_native.dll';
  if (process.platform === 'darwin') return 'libattache_native.dylib';
  return 'libattache_native.so';
}

function build() {
  if (process.env.ATTACHE_SKIP_NATIVE === '1') throw new BuildError('ATTACHE_SKIP_NATIVE=1');
  if (!fs.existsSync(path.join(crateDir, 'Cargo.toml'))) throw new BuildError('native/Cargo.toml missing');
  const env = cargoEnv();
  const probe = spawnSync('cargo', ['--version'], { env, encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new BuildError('cargo not found');

  const args = ['build', '--offline', '--lib'];
  if (!debug) args.push('--release');
  // Under --optional keep npm's output quiet unless something fails.
  const res = spawnSync('cargo', args, {
    cwd: crateDir,
    env,
    encoding: 'utf8',
    stdio: optional ? ['ignore', 'pipe', 'pipe'] : 'inherit',
  });
  if (res.error) throw new BuildError(`cargo failed to start: ${res.error.message}`);
  if (res.status !== 0) {
    throw new BuildError(`cargo build failed (exit ${res.status})`, optional ? `${res.stdout}${res.stderr}` : '');
  }

  const targetDir = process.env.CARGO_TARGET_DIR
    ? path.resolve(crateDir, process.env.CARGO_TARGET_DIR)
    : path.join(crateDir, 'target');
  const built = path.join(targetDir, debug ? 'debug' : 'release', libFileName());
  if (!fs.existsSync(built)) throw new BuildError(`cargo produced no ${built}`);

  // Copy then rename: a running process may have the old file mapped; never overwrite it in place.
  const tmp = `${dest}.${process.pid}.tmp`;
  fs.copyFileSync(built, tmp);
  fs.renameSync(tmp, dest);

  // The file must load and export what src/native/index.ts expects.
  let addon;
  try {
    addon = require(dest);
  } catch (err) {
    fs.rmSync(dest, { force: true });
    throw new BuildError(`built addon does not load: ${err.message}`);
  }
  if (typeof addon.xxhash64 !== 'function' || addon.xxhash64('') !== 0xef46db3751d8e999n) {
    fs.rmSync(dest, { force: true });
    throw new BuildError('built addon fails its self-check (xxhash64(""))');
  }
  return path.relative(root, dest);
}

try {
  const rel = build();
  console.log(`attache: native addon built: ${rel}`);
} catch (err) {
  const short = err instanceof BuildError ? err.short : String(err && err.message);
  if (optional) {
    if (process.env.ATTACHE_NATIVE_VERBOSE === '1' && err.message !== short) console.error(err.message);
    console.error(`attache: native addon not built (${short}); using the WebAssembly/TypeScript fallbacks`);
    process.exit(0);
  }
  console.error(`attache: native addon build failed: ${err && err.message}`);
  process.exit(1);
}

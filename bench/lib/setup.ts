/**
 * Installs what the bench needs when it is missing (Debian's nginx, haproxy and wrk with apt-get;
 * the Node peers from npm as devDependencies) and describes the machine for the report.
 */
import { execFileSync, execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';

function has(bin: string): boolean {
  try {
    execSync(`command -v ${bin}`, { stdio: 'ignore', shell: '/bin/sh' });
    return true;
  } catch {
    return false;
  }
}

/** Debian packages → the binary each provides. */
const APT: Record<string, string> = { nginx: 'nginx', haproxy: 'haproxy', wrk: 'wrk' };
/** npm packages the peers and the optional autocannon check need. */
const NPM = ['http-proxy', '@fastify/http-proxy', 'fastify', 'autocannon'];

/**
 * Installs missing tools; `log` gets one line per action.
 * @throws when apt-get or npm fails (the message names the package).
 */
export function ensureTools(root: string, log: (s: string) => void): void {
  const missing = Object.entries(APT).filter(([, bin]) => !has(bin)).map(([pkg]) => pkg);
  if (missing.length > 0) {
    log(`installing ${missing.join(', ')} with apt-get`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    try {
      execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'ignore', env });
    } catch {
      execFileSync('apt-get', ['update'], { stdio: 'ignore', env });
      execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
    }
  }
  const npmMissing = NPM.filter((p) => {
    try {
      require.resolve(`${p}/package.json`, { paths: [root] });
      return false;
    } catch {
      return true;
    }
  });
  if (npmMissing.length > 0) {
    log(`installing ${npmMissing.join(', ')} with npm (devDependencies)`);
    execFileSync('npm', ['install', '--save-dev', '--legacy-peer-deps', ...npmMissing], { cwd: root, stdio: 'inherit' });
  }
}

function firstLine(cmd: string): string {
  try {
    return execSync(`${cmd} 2>&1 || true`, { encoding: 'utf8', shell: '/bin/sh' }).split('\n')[0].trim();
  } catch {
    return '?';
  }
}

/** nproc, CPU model, kernel, node and the tools' versions. */
export function machineInfo(): Record<string, string> {
  let model = os.cpus()[0]?.model ?? '?';
  try {
    const m = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) model = m[1].trim();
  } catch {
    // keep os.cpus()
  }
  return {
    nproc: firstLine('nproc'),
    cpu: model,
    kernel: os.release(),
    node: process.version,
    nginx: firstLine('nginx -v').replace(/^nginx version: /, ''),
    haproxy: firstLine('haproxy -v').replace(/ - https.*$/, ''),
    wrk: firstLine('wrk -v').replace(/ \[.*$/, ''),
  };
}

/** Pins every thread of this process to `cpus` (taskset list). Best effort. */
export function pinSelf(cpus: string): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
  } catch {
    // not fatal: the numbers get noisier
  }
}

/** HEAD's short hash and the number of uncommitted changes (read-only git commands). */
export function gitInfo(root: string): Record<string, string> {
  try {
    const head = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    // Tracked files changed outside bench/results (what the bench measures, not what it wrote).
    const dirty = execFileSync('git', ['--no-optional-locks', '-C', root, 'status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)bench/results'], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
    return { commit: dirty > 0 ? `${head} +${dirty} files changed` : head };
  } catch {
    return { commit: 'unknown' };
  }
}

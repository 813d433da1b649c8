/**
 * CPU time and memory of a process tree, read from procfs (proc(5)): `/proc/PID/stat` fields 14-15
 * (utime, stime, in clock ticks, summed over every thread of the process) and `/proc/PID/status`
 * (VmRSS, VmHWM, in KiB). A "tree" is the process and all its descendants (nginx's master and
 * worker, a shell that exec'd into the proxy, ...), found through the ppid field of /proc/*\/stat.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

let ticksPerSec = 0;

/** Clock ticks per second (`getconf CLK_TCK`, usually 100). */
export function clockTicks(): number {
  if (ticksPerSec === 0) {
    try {
      ticksPerSec = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSec = 100;
    }
  }
  return ticksPerSec;
}

/** Fields of /proc/PID/stat after the `(comm)` field, which may contain spaces. */
function statFields(pid: number): string[] | undefined {
  let s: string;
  try {
    s = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}

/** The pid and all its live descendants. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const f = statFields(pid);
    if (!f) continue;
    const ppid = Number(f[1]); // field 4 overall: ppid
    let list = children.get(ppid);
    if (!list) children.set(ppid, (list = []));
    list.push(pid);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    out.push(pid);
    for (const c of children.get(pid) ?? []) stack.push(c);
  }
  return out;
}

/** utime + stime of one process (all its threads), in microseconds; 0 when it is gone. */
export function cpuMicros(pid: number): number {
  const f = statFields(pid);
  if (!f) return 0;
  // After ')': state(3) ppid(4) pgrp pgid session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15)
  const ticks = Number(f[11]) + Number(f[12]);
  return (ticks * 1e6) / clockTicks();
}

/** utime + stime summed over a process tree, µs. */
export function treeCpuMicros(root: number): number {
  let sum = 0;
  for (const pid of processTree(root)) sum += cpuMicros(pid);
  return sum;
}

function statusKiB(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  let s: string;
  try {
    s = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return 0;
  }
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(s);
  return m ? Number(m[1]) : 0;
}

/** Resident set size summed over a process tree, KiB. */
export function treeRssKiB(root: number): number {
  let sum = 0;
  for (const pid of processTree(root)) sum += statusKiB(pid, 'VmRSS');
  return sum;
}

/** Peak resident set size (VmHWM, since each process started) summed over a tree, KiB. */
export function treeHwmKiB(root: number): number {
  let sum = 0;
  for (const pid of processTree(root)) sum += statusKiB(pid, 'VmHWM');
  return sum;
}

/**
 * Samples the tree's RSS every `intervalMs` until stopped; `stop()` returns the peak in KiB.
 * Sampling (rather than VmHWM) gives the peak during one measured run, not since start.
 */
export function sampleRss(root: number, intervalMs = 200): { stop(): number } {
  const pids = processTree(root);
  const rss = (): number => {
    let sum = 0;
    for (const pid of pids) sum += statusKiB(pid, 'VmRSS');
    return sum;
  };
  let peak = rss();
  const t = setInterval(() => {
    const v = rss();
    if (v > peak) peak = v;
  }, intervalMs);
  return {
    stop(): number {
      clearInterval(t);
      const v = rss();
      return v > peak ? v : peak;
    },
  };
}
